/**
 * Live moves and NICs on virtual networks (issue 18): the second QEMU of a
 * move would need its own taps on the target's copy of each network, which
 * moves do not plumb yet. Refused before anything starts, naming the NICs and
 * networks, instead of failing halfway when the target's QEMU starts.
 */
import { PolyvisorError } from '../shared/index.js';
import type { VmRecord } from '../store/index.js';

export function refuseNetworkNics(rec: Pick<VmRecord, 'name' | 'state' | 'spec'>): void {
  if (rec.state !== 'running' && rec.state !== 'paused') return;
  const nics = rec.spec.networks.filter((n) => n.type === 'network').map((n) => `${n.name} on ${String(n.network)}`);
  if (nics.length === 0) return;
  throw new PolyvisorError('MIGRATION_INCOMPATIBLE', `VM ${rec.name} has NICs on virtual networks (${nics.join(', ')}), which live moves do not carry yet`, {
    details: [{ what: 'virtual network NICs', nics }],
    hint: 'Stop the VM and move it offline (the target must have networks of the same names), or take the NICs off the networks first.',
  });
}
