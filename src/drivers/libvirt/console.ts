/**
 * The serial console: the domain's ttyS0 on a unix socket (what Polyvisor
 * defines: `<serial type='unix'><source mode='bind'>`), connected directly.
 * `virsh console` needs a terminal and is not used. A pty console of a
 * domain defined elsewhere is opened as the tty device when libvirtd runs on
 * this machine. A remote host's console is refused (it would need
 * virDomainOpenConsole over libvirt's RPC stream).
 */
import { open } from 'node:fs/promises';
import { constants } from 'node:fs';
import { connect } from 'node:net';
import { Duplex } from 'node:stream';
import tty from 'node:tty';
import { PolyvisorError } from '../../shared/index.js';
import type { ForeignConsoles } from '../endpoint.js';
import { checkName, type LibvirtContext } from './context.js';

function unixSocket(p: string, signal: AbortSignal): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const s = connect(p);
    const onAbort = (): void => {
      s.destroy();
      reject(new PolyvisorError('ABORTED', 'opening the serial console was cancelled'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    s.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(s);
    });
    s.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(new PolyvisorError('ENDPOINT_TASK_FAILED', `the serial console socket ${p} does not answer (is the VM running?)`, { cause: err }));
    });
  });
}

async function ptyDevice(p: string): Promise<Duplex> {
  const fh = await open(p, constants.O_RDWR | constants.O_NOCTTY);
  const readable = new tty.ReadStream(fh.fd);
  const writable = new tty.WriteStream(fh.fd);
  readable.setRawMode(true);
  // A Duplex of our own rather than Duplex.from(): destroying that one without an error still emits an
  // AbortError, which a caller closing the console would have to catch.
  const d = new Duplex({
    read() {
      readable.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      writable.write(chunk, cb);
    },
    destroy(err, cb) {
      readable.destroy();
      void fh.close().catch(() => undefined);
      cb(err);
    },
  });
  readable.on('data', (c: Buffer) => {
    if (!d.push(c)) readable.pause();
  });
  readable.on('end', () => d.push(null));
  readable.on('error', (err) => d.destroy(err));
  writable.on('error', (err) => d.destroy(err));
  return d;
}

export function consolesPart(ctx: LibvirtContext): ForeignConsoles {
  return {
    async serial(vm, signal) {
      const found = await ctx.describe(checkName('VM', vm), signal);
      if (found.vm.state !== 'running' && found.vm.state !== 'paused') {
        throw new PolyvisorError('INVALID_TRANSITION', `${vm} is ${found.vm.state}: its serial console exists while it runs`);
      }
      if (!found.host.local) throw new PolyvisorError('ENDPOINT_TASK_FAILED', `${vm} runs on ${found.host.name}, not on this machine: its serial console is reachable only on that host`);
      const s = found.facts.serial;
      if (s.kind === 'unix' && s.path) return unixSocket(s.path, signal);
      if (s.kind === 'pty' && s.path) return ptyDevice(s.path);
      throw new PolyvisorError('ENDPOINT_TASK_FAILED', `${vm} has no serial console on a unix socket or pty (add <serial type='unix'> with virsh edit)`);
    },
  };
}
