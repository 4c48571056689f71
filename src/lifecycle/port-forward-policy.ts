/**
 * Which host sockets a VM's user-mode port forwards (QEMU hostfwd) may bind,
 * by role (audit defect 9): admins any; everyone else only loopback addresses
 * (127.0.0.0/8) and unprivileged ports (1024 and up), so an operator cannot
 * publish a guest on the host's network or take a port a system service
 * expects. Forwards already in the VM's previous spec are left as they are
 * (an admin may have set them). Pure.
 */
import { fail, type Caller } from '../shared/index.js';
import type { PortForward, VmSpec } from '../spec/index.js';
import { describeForward, forwardsOf } from './port-forwards.js';

export const FIRST_UNPRIVILEGED_PORT = 1024;

const isLoopbackV4 = (a: string): boolean => a.startsWith('127.');
const key = (f: PortForward): string => `${f.protocol}:${f.hostAddress}:${f.hostPort}:${f.guestPort}`;

/** Throws PORT_FORWARD_NOT_ALLOWED naming every forward of `spec` the caller may not add. */
export function checkForwardPolicy(spec: VmSpec, caller: Caller | undefined, previous?: VmSpec): void {
  if (!caller || caller.role === 'admin') return;
  const kept = new Set((previous ? forwardsOf(previous) : []).map(key));
  const problems: Array<{ field: string; message: string }> = [];
  spec.networks.forEach((n, i) => n.portForwards.forEach((f, j) => {
    if (kept.has(key(f))) return;
    const field = `networks.${i}.portForwards.${j}`;
    if (!isLoopbackV4(f.hostAddress)) problems.push({ field: `${field}.hostAddress`, message: `${describeForward(f)}: only admins may forward from a non-loopback address` });
    if (f.hostPort < FIRST_UNPRIVILEGED_PORT) problems.push({ field: `${field}.hostPort`, message: `${describeForward(f)}: only admins may forward a privileged port (below ${FIRST_UNPRIVILEGED_PORT})` });
  }));
  if (problems.length) {
    fail('PORT_FORWARD_NOT_ALLOWED', `role ${caller.role} (token ${caller.actor}) may not add ${problems.map((p) => p.message).join('; ')}`, { details: problems });
  }
}
