/**
 * Argv additions derived from the plan: spare PCIe root ports on q35 (its
 * root bus takes no hot-plugged devices, a root port does) and the
 * cloud-init seed CD-ROM. Pure.
 */
import path from 'node:path';
import { CLOUD_INIT_DISK, CLOUD_INIT_SEED_FILE, type DiskSpec } from '../../spec/index.js';
import type { LaunchPlan } from '../driver.js';
import { opts } from './qemu-opts.js';

/** Hot-plug slots a q35 VM gets (pc's PCI bus hot-plugs without help). */
export const HOTPLUG_PORTS = 4;
export const hotplugPortId = (i: number): string => `pv-hp${i}`;

/** The seed ISO a VM with `cloudInit` boots with, in its runtime directory (built before start). */
export const seedPath = (dir: string): string => path.join(dir, CLOUD_INIT_SEED_FILE);

export function hotplugPortArgs(plan: LaunchPlan): string[] {
  if (plan.spec.machine.type !== 'q35') return [];
  return Array.from({ length: HOTPLUG_PORTS }, (_, i) => ['-device', opts('pcie-root-port', [['id', hotplugPortId(i)], ['chassis', i + 1]])]).flat();
}

/** The plan with the seed CD-ROM appended to its disks (virtio-scsi on q35, IDE on pc); unchanged without cloudInit. */
export function withSeedDisk(plan: LaunchPlan): LaunchPlan {
  if (!plan.spec.cloudInit) return plan;
  const seed: DiskSpec = {
    name: CLOUD_INIT_DISK, path: seedPath(plan.dir), format: 'raw', media: 'cdrom',
    bus: plan.spec.machine.type === 'q35' ? 'scsi' : 'sata', readOnly: true, cache: 'writeback',
  };
  return {
    ...plan,
    spec: { ...plan.spec, disks: [...plan.spec.disks, seed] },
    diskPaths: { ...plan.diskPaths, [CLOUD_INIT_DISK]: seed.path! },
  };
}
