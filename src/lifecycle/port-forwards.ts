/**
 * Host-port forwards are checked before QEMU starts: a port another VM of this
 * host forwards, or that some other program holds, fails with PORT_IN_USE
 * naming the holder (QEMU's own "Could not set up host forwarding rule" names
 * neither).
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { fail } from '../shared/index.js';
import type { PortForward, VmSpec } from '../spec/index.js';
import type { VmRecord } from '../store/index.js';

/** States in which a VM's QEMU runs and holds its forwarded ports. */
const HOLDING = new Set<string>(['starting', 'running', 'paused', 'stopping', 'migrating']);

export const forwardsOf = (spec: VmSpec): PortForward[] => spec.networks.flatMap((n) => n.portForwards);

export const describeForward = (f: PortForward): string => `${f.protocol} ${f.hostAddress}:${f.hostPort}`;

/** Two forwards want the same host socket (0.0.0.0 covers every address). */
export function sameHostPort(a: PortForward, b: PortForward): boolean {
  return a.protocol === b.protocol && a.hostPort === b.hostPort
    && (a.hostAddress === b.hostAddress || a.hostAddress === '0.0.0.0' || b.hostAddress === '0.0.0.0');
}

/** The first forward of `spec` that a running VM among `others` already holds (the VM itself is skipped). */
export function forwardHeldByVm(spec: VmSpec, others: readonly VmRecord[]): { forward: PortForward; vm: VmRecord } | undefined {
  for (const forward of forwardsOf(spec)) {
    const vm = others.find((o) => o.name !== spec.name && HOLDING.has(o.state) && forwardsOf(o.spec).some((f) => sameHostPort(f, forward)));
    if (vm) return { forward, vm };
  }
  return undefined;
}

/** Binds the forward's host address and port for a moment; resolves to the error code when that fails (EADDRINUSE, EACCES…). */
export function probeHostPort(f: PortForward): Promise<string | undefined> {
  return new Promise((resolve) => {
    const failed = (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message);
    if (f.protocol === 'udp') {
      const s = createSocket('udp4');
      s.once('error', (err) => {
        s.close();
        failed(err);
      });
      s.bind({ address: f.hostAddress, port: f.hostPort, exclusive: true }, () => s.close(() => resolve(undefined)));
      return;
    }
    const srv = createServer();
    srv.once('error', failed);
    srv.listen({ host: f.hostAddress, port: f.hostPort, exclusive: true }, () => srv.close(() => resolve(undefined)));
  });
}

/**
 * Throws PORT_IN_USE for the first forward of `spec` that is not free: held by
 * another VM of `others` (named), or by another program (the port named).
 */
export async function checkPortForwards(spec: VmSpec, others: readonly VmRecord[], probe: (f: PortForward) => Promise<string | undefined> = probeHostPort): Promise<void> {
  const held = forwardHeldByVm(spec, others);
  if (held) {
    fail('PORT_IN_USE', `host port ${describeForward(held.forward)} of VM ${spec.name} is already forwarded by VM ${held.vm.name} (${held.vm.state})`, {
      details: { port: held.forward.hostPort, address: held.forward.hostAddress, protocol: held.forward.protocol, heldBy: held.vm.name },
    });
  }
  for (const f of forwardsOf(spec)) {
    const code = await probe(f);
    if (code === undefined) continue;
    const why = code === 'EADDRINUSE' ? 'another program listens on it' : code === 'EACCES' ? 'the daemon may not bind it (ports below 1024 need root)' : code === 'EADDRNOTAVAIL' ? 'this host has no such address' : code;
    fail('PORT_IN_USE', `host port ${describeForward(f)} of VM ${spec.name} cannot be forwarded: ${why}`, {
      details: { port: f.hostPort, address: f.hostAddress, protocol: f.protocol, heldBy: null, reason: code },
    });
  }
}
