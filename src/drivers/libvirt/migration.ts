/**
 * Live migration between two libvirtd of the endpoint: `virsh migrate --live
 * --persistent --undefinesource` (the VM moves, it is not copied), offline
 * (`--offline`) when it is stopped. Disks stay where they are: the hosts share
 * the storage (or, for two daemons on one machine, the same files: then
 * --unsafe, as libvirt cannot see that the files are shared). Between
 * daemons on this machine libvirt refuses its own choice of address
 * ("migration_host must not be the address of the local machine"), so the
 * driver gives --migrateuri tcp://127.0.0.1:PORT and --listen-address
 * 127.0.0.1. A unix serial socket named per host (serial-<host key>.sock) is
 * renamed for the target in the migration XML, so the two QEMUs never bind
 * the same path.
 */
import { createServer } from 'node:net';
import path from 'node:path';
import { PolyvisorError } from '../../shared/index.js';
import type { ForeignMigration } from '../endpoint.js';
import { checkName, type LibvirtContext } from './context.js';
import { LONG_TIMEOUT_MS } from './virsh.js';

/** A TCP port free on 127.0.0.1 right now. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** The domain XML with its per-host serial socket (serial-<key>.sock) renamed for the target host. */
export function retargetSerial(xml: string, fromKey: string, toKey: string): string {
  return xml.replace(/(<source mode='bind' path=')([^']*)(')/g, (all, a: string, p: string, b: string) =>
    path.basename(p) === `serial-${fromKey}.sock` ? `${a}${path.join(path.dirname(p), `serial-${toKey}.sock`)}${b}` : all,
  );
}

export function migrationPart(ctx: LibvirtContext): ForeignMigration {
  return {
    async migrate(vm, targetHost, signal, onProgress) {
      const target = ctx.host(targetHost);
      const src = await ctx.describe(checkName('VM', vm), signal);
      if (src.host.name === target.host.name) throw new PolyvisorError('INVALID_ARGUMENT', `${vm} already runs on ${targetHost}`);
      const live = src.vm.state === 'running' || src.vm.state === 'paused';
      const args = ['migrate', '--domain', vm, '--desturi', target.host.uri, '--persistent', '--undefinesource', '--verbose'];
      if (live) args.push('--live');
      else if (src.vm.state === 'suspended') throw new PolyvisorError('INVALID_TRANSITION', `${vm} has a managed save; start it (or discard the save) before moving it`);
      else args.push('--offline');
      if (live && src.host.local && target.host.local) {
        // Both daemons on this machine: the disks are the very same files, so libvirt's "without shared
        // storage" check (cache mode, shared file system) does not apply.
        args.push('--migrateuri', `tcp://127.0.0.1:${await freeLoopbackPort()}`, '--listen-address', '127.0.0.1', '--unsafe');
      }
      let xml: string | null = null;
      if (src.facts.serial.kind === 'unix') {
        const dumped = await src.virsh.call(['dumpxml', '--migratable', '--domain', vm], signal);
        const moved = retargetSerial(dumped, src.host.key, target.host.key);
        if (moved !== dumped) xml = moved;
      }
      onProgress?.(0, `to ${target.host.name}`);
      const onStdout = (chunk: string): void => {
        const m = /\[\s*(\d+)\s*%\]/g;
        let last: number | null = null;
        for (let x = m.exec(chunk); x; x = m.exec(chunk)) last = Number(x[1]);
        if (last !== null) onProgress?.(Math.min(0.99, last / 100));
      };
      const opts = { timeoutMs: LONG_TIMEOUT_MS, onStdout };
      if (xml) await src.virsh.withXml(xml, (file) => [...args, '--xml', file], signal, opts);
      else await src.virsh.call(args, signal, opts);
      onProgress?.(1);
    },
  };
}
