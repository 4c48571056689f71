/**
 * What a hypervisor driver can do: one table, read by `polyvisor driver list`,
 * docs/drivers.md (generated from it, kept in step by a test), the capability
 * gate (a request for something the VM's driver lacks fails before any work
 * starts, CAPABILITY_NOT_SUPPORTED) and the web UI (actions it lacks are hidden).
 */
export const CAPABILITIES = [
  'power.start',
  'power.stop',
  'power.kill',
  'power.pause',
  'power.suspend',
  'power.reboot',
  'console.serial',
  'console.graphical',
  'snapshot.create',
  'snapshot.memory',
  'snapshot.tree',
  'snapshot.revert',
  'snapshot.delete',
  'backup',
  'migrate.live',
  'move.toLocal',
  'move.fromLocal',
  'reconfigure',
  'clone',
  'hotplug',
  'import',
  'export',
  'metrics',
  'events',
] as const;

export type Capability = (typeof CAPABILITIES)[number];

/** What each capability means, for docs/drivers.md and `driver list --json`. */
export const CAPABILITY_TEXT: Record<Capability, string> = {
  'power.start': 'start a stopped VM',
  'power.stop': 'ask the guest to shut down (ACPI)',
  'power.kill': 'power off at once',
  'power.pause': 'pause and resume the vCPUs',
  'power.suspend': 'save RAM to disk and stop; the next start restores it',
  'power.reboot': 'restart the guest',
  'console.serial': 'serial console through Polyvisor',
  'console.graphical': 'graphical console (VNC) through Polyvisor',
  'snapshot.create': 'disk snapshots',
  'snapshot.memory': 'snapshots that keep RAM (revert to a running VM)',
  'snapshot.tree': 'snapshots as a tree (a revert then a new snapshot branches)',
  'snapshot.revert': 'revert to a snapshot',
  'snapshot.delete': 'delete a snapshot',
  backup: 'full and incremental backups',
  'migrate.live': 'live migration between hosts of the endpoint',
  'move.toLocal': 'import a VM of this endpoint into a local QEMU VM (`polyvisor import ENDPOINT/VM`)',
  'move.fromLocal': 'move a local VM to this endpoint (`polyvisor vm move VM --to ENDPOINT`)',
  reconfigure: 'change CPU count and memory of a stopped VM',
  clone: 'clone a VM',
  hotplug: 'add and remove disks and NICs on a running VM',
  import: 'create VMs from disk images and foreign configs',
  export: 'export VMs to disk images and foreign configs',
  metrics: 'per-VM figures in /metrics',
  events: 'state changes pushed by the hypervisor (else the inventory is polled)',
};

/** One cell: supported or not, and a word on how (or why not). */
export interface CapabilityCell {
  supported: boolean;
  note?: string;
}

export type CapabilityMatrix = Record<Capability, CapabilityCell>;

export const yes = (note?: string): CapabilityCell => (note ? { supported: true, note } : { supported: true });
export const no = (note?: string): CapabilityCell => (note ? { supported: false, note } : { supported: false });

/** A matrix with every capability refused, then the given cells. */
export function matrix(cells: Partial<CapabilityMatrix>): CapabilityMatrix {
  const out = {} as CapabilityMatrix;
  for (const c of CAPABILITIES) out[c] = cells[c] ?? no();
  return out;
}

export function isCapability(s: string): s is Capability {
  return (CAPABILITIES as readonly string[]).includes(s);
}
