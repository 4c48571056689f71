/**
 * qemuUser: per-vm (docs/security.md): the VmUsers the QEMU driver starts each
 * VM's QEMU with — the uid range and its shared group from the config, the
 * allocations kept in STATE/qemu-uids, the daemon's own folders as the ones it
 * may open to the shared group, and the group of /dev/kvm (where it exists) as
 * a supplementary group so an unprivileged QEMU still opens KVM, and, where
 * the host has AppArmor, a loader of per-VM profiles.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { AppArmorLoader, probeAppArmor, VmUsers } from '../drivers/qemu/index.js';
import type { DaemonConfig } from './config.js';

export async function qemuUsersOf(c: Pick<DaemonConfig, 'qemuUser' | 'qemuUidBase' | 'qemuUidCount' | 'stateDir' | 'vmsDir'>): Promise<VmUsers | undefined> {
  if (c.qemuUser !== 'per-vm') return undefined;
  const kvm = await stat('/dev/kvm').then((s) => s.gid, () => undefined);
  // Where the host has AppArmor, each VM's QEMU is exec'd under its own profile as well (doctor's `apparmor` check says when not).
  const aa = await probeAppArmor();
  return new VmUsers({
    ...(aa.loadable ? { appArmor: new AppArmorLoader({ dir: path.join(c.stateDir, 'apparmor'), parser: aa.parser }) } : {}),
    base: c.qemuUidBase,
    count: c.qemuUidCount,
    allocDir: path.join(c.stateDir, 'qemu-uids'),
    roots: [c.stateDir, c.vmsDir],
    ...(kvm !== undefined && kvm !== 0 ? { extraGroups: [kvm] } : {}),
  });
}
