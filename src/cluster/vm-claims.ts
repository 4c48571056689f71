/** What a VM claims of its host (CPUs, RAM, the sizes of the disks it creates), and the states in which it does. */
import type { VmState } from '../spec/index.js';
import type { VmRecord } from '../store/index.js';
import type { Resources } from './scheduler/index.js';
import { HA_RESTART_STATES } from './ha-plan.js';

/** States in which a VM holds its host's resources: meant to run, or on its way in or out. */
export const CLAIMING_STATES: ReadonlySet<VmState> = new Set<VmState>([...HA_RESTART_STATES, 'stopping', 'migrating']);

export function vmClaim(rec: Pick<VmRecord, 'spec'>): Resources {
  return { cpus: rec.spec.cpu.count, memoryBytes: rec.spec.memory, diskBytes: rec.spec.disks.reduce((n, d) => n + (d.size ?? 0), 0) };
}

/** The sum of what `vms` claim. */
export function sumClaims(vms: readonly Pick<VmRecord, 'spec'>[]): { cpus: number; memoryBytes: number; diskBytes: number } {
  const total = { cpus: 0, memoryBytes: 0, diskBytes: 0 };
  for (const v of vms) {
    const c = vmClaim(v);
    total.cpus += c.cpus;
    total.memoryBytes += c.memoryBytes;
    total.diskBytes += c.diskBytes;
  }
  return total;
}
