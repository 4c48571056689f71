/**
 * qemuUser: per-vm (docs/security.md): the VmUsers the QEMU driver starts each
 * VM's QEMU with — the uid range and its shared group from the config, the
 * allocations kept in VMSDIR/.qemu-uids (one folder for the cluster members
 * that share the vmsDir), the daemon's own folders as the ones it
 * may open to the shared group, and the group of /dev/kvm (where it exists) as
 * a supplementary group so an unprivileged QEMU still opens KVM, and, where
 * the host has AppArmor, a loader of per-VM profiles.
 */
import { chmod, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppArmorLoader, claimUidRange, moveOldUidAllocations, overlappingClaims, probeAppArmor, VmUsers } from '../drivers/qemu/index.js';
import type { QemuUserView } from '../doctor/index.js';
import { vmDir, type StateKeeper } from '../lifecycle/index.js';
import type { Logger } from '../shared/index.js';
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
    allocDir: qemuUidAllocDir(c.vmsDir),
    roots: [c.stateDir, c.vmsDir],
    ...(kvm !== undefined && kvm !== 0 ? { extraGroups: [kvm] } : {}),
  });
}

/** Where the uid allocations live: beside the VM directories they guard (docs/security.md). */
export const qemuUidAllocDir = (vmsDir: string): string => path.join(vmsDir, '.qemu-uids');

/**
 * Upgrade: the allocations an older daemon kept in STATE/qemu-uids move into VMSDIR/.qemu-uids, never letting a
 * uid be free in both (drivers/qemu uid-alloc-upgrade.ts). Runs before any VM is adopted or started.
 */
export async function moveOldQemuUids(c: Pick<DaemonConfig, 'stateDir'>, users: VmUsers, logger: Logger): Promise<void> {
  await moveOldUidAllocations(path.join(c.stateDir, 'qemu-uids'), users.alloc, logger);
}

/**
 * Says which uid range this daemon's QEMUs use under /run (drivers/qemu
 * uid-ranges.ts) and warns when another live daemon of this host uses an
 * overlapping one: two VMs of the two daemons could get the same uid and open
 * each other's files (docs/security.md). Daemons sharing one vmsDir allocate
 * in one folder (VMSDIR/.qemu-uids), so their overlap is no warning. A warning, not a refusal: the fix is
 * the operator's (give one daemon another qemuUidBase). Returns the remover.
 */
export async function claimQemuUidRange(c: Pick<DaemonConfig, 'qemuUidBase' | 'qemuUidCount' | 'stateDir' | 'vmsDir'>, logger: Logger, dir?: string): Promise<() => Promise<void>> {
  const { overlaps, release } = await claimUidRange({ stateDir: c.stateDir, vmsDir: c.vmsDir, base: c.qemuUidBase, count: c.qemuUidCount }, dir);
  for (const o of overlaps) {
    logger.warn({ otherPid: o.pid, otherStateDir: o.stateDir, otherVmsDir: o.vmsDir ?? null, otherBase: o.base, otherCount: o.count, base: c.qemuUidBase, count: c.qemuUidCount },
      'another polyvisord on this host gives its VMs uids from an overlapping range: two VMs of the two daemons can get the same uid and open each other\'s files; give one daemon another qemuUidBase');
  }
  return release;
}

/** What doctor says of who QEMU runs as (check `qemu-user`). */
export async function qemuUserView(c: Pick<DaemonConfig, 'qemuUser' | 'qemuUidBase' | 'qemuUidCount' | 'stateDir' | 'vmsDir'>, dir?: string): Promise<QemuUserView> {
  if (c.qemuUser !== 'per-vm') return { mode: 'root', uid: process.geteuid?.() ?? 0 };
  return {
    mode: 'per-vm', base: c.qemuUidBase, count: c.qemuUidCount,
    overlaps: await overlappingClaims({ stateDir: c.stateDir, vmsDir: c.vmsDir, base: c.qemuUidBase, count: c.qemuUidCount }, dir),
    closed: await closedFolderAbove(c),
  };
}

/**
 * The first folder above the state directory or vmsDir that a QEMU of the
 * range cannot pass through (neither o+x nor the range's shared group with
 * g+x): with it every VM's start fails with VM_FILE_UNREACHABLE, its own
 * directory included (a state directory under a 0700 home). The daemon's own
 * folders are not asked: it opens them to the shared group itself.
 */
export async function closedFolderAbove(c: Pick<DaemonConfig, 'qemuUidBase' | 'stateDir' | 'vmsDir'>): Promise<{ folder: string; mode: number; owner: string; on: string } | null> {
  const roots = [c.stateDir, c.vmsDir].map((r) => path.resolve(r));
  const mine = (d: string) => roots.some((r) => d === r || d.startsWith(`${r}/`));
  for (const root of roots) {
    for (let cur = path.dirname(root); ; cur = path.dirname(cur)) {
      if (!mine(cur)) {
        const st = await stat(cur).catch(() => undefined);
        if (st && (st.mode & 0o001) === 0 && !(st.gid === c.qemuUidBase && (st.mode & 0o010) !== 0)) {
          return { folder: cur, mode: st.mode & 0o777, owner: `${st.uid}:${st.gid}`, on: root };
        }
      }
      if (cur === '/') break;
    }
  }
  return null;
}

/** Warns at start when VMs cannot reach their own folders (closedFolderAbove): every confined VM's start would fail. */
export async function warnClosedFolders(c: Pick<DaemonConfig, 'qemuUidBase' | 'stateDir' | 'vmsDir'>, logger: Logger): Promise<void> {
  const closed = await closedFolderAbove(c);
  if (!closed) return;
  logger.warn({ folder: closed.folder, mode: closed.mode.toString(8), owner: closed.owner, on: closed.on },
    'VMs cannot start: their QEMUs run as their own users (qemuUser: per-vm) and cannot pass through this folder on the way to the daemon\'s files; move the state directory (e.g. /var/lib/polyvisor), make the folder passable (chmod o+x), or set qemuUser: root');
}

/** The owner of a VM's taps: the uid and gid its QEMU runs as (the same allocation the driver starts it with). */
export function tapOwnerOf(users: VmUsers, vmsDir: string): (vm: { id: string }) => Promise<{ uid: number; gid: number }> {
  return async (vm) => {
    const id = await users.identity(vm.id, vmDir(vmsDir, vm.id));
    return { uid: id.uid, gid: id.gid };
  };
}

/**
 * An unprivileged QEMU opens /dev/net/tun itself to attach to its tap. Debian's
 * udev rule makes the node 0666 (50-udev-default.rules: KERNEL=="tun",
 * MODE="0666"), which is safe: the tun driver lets a process without
 * CAP_NET_ADMIN attach only to a tap it owns. A host without udev keeps the
 * kernel's 0600, and every confined VM with a NIC on a network would fail to
 * start; the daemon gives the node Debian's mode and says so.
 */
export async function openTunForVmUsers(logger: Logger, node = '/dev/net/tun'): Promise<void> {
  const st = await stat(node).catch(() => undefined);
  if (!st || (st.mode & 0o666) === 0o666) return;
  await chmod(node, 0o666).then(
    () => logger.info({ node, was: (st.mode & 0o777).toString(8) }, 'gave /dev/net/tun Debian\'s mode 0666 so confined QEMUs can attach to their own taps'),
    (err: unknown) => logger.warn({ err, node }, 'could not open /dev/net/tun to confined QEMUs: VMs with NICs on virtual networks will not start'),
  );
}

/**
 * A VM removed here (deleted, or moved to another cluster member): its
 * AppArmor profile is unloaded and its file removed, as libvirt does for a
 * domain it undefines, and its uid allocation goes back to the range if its
 * directory is gone. Both 'removed' paths (VmService.remove, dropLocalCopy)
 * delete the directory before the event, so a deleted VM's uid is free at
 * once; a VM that moved to a member sharing this vmsDir keeps its directory,
 * its entry and its uid there (VmUsers.release).
 */
export function forgetVmUsersOnRemove(states: Pick<StateKeeper, 'on' | 'off'>, users: VmUsers, logger: Logger): () => void {
  const onRemoved = (r: { id: string }): void => {
    const id = r.id;
    void (async () => {
      await users.release(id);
      await users.o.appArmor?.unload(id);
    })().catch((err: unknown) => logger.warn({ err, vm: id }, 'could not release the removed VM\'s user or AppArmor profile'));
  };
  states.on('removed', onRemoved);
  return () => states.off('removed', onRemoved);
}
