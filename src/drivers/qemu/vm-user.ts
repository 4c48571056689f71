/**
 * Each VM's QEMU as its own unprivileged user (issue 23, audit defect 5; like
 * libvirt's DAC labels with dynamic ownership): a uid from a configured range,
 * given to one VM and kept for it, with a gid of the same number and the
 * range's shared group as a supplementary one (it lets QEMU pass through the
 * daemon's folders and read shared read-only inputs, nothing more).
 *
 * Allocation is a file per uid in `allocDir` (uid-alloc-dir.ts: created whole
 * or not at all, so two VMs starting at once never get the same uid, even
 * across daemon restarts), holding the VM's id and its directory. The folder
 * is `VMSDIR/.qemu-uids`, kept with the VM directories it guards: cluster
 * members whose vmsDir is one shared folder allocate in one folder, so no two
 * VMs that can reach each other's files share a uid, and a VM that fails over
 * or moves in place finds its own entry there and keeps its uid. An entry
 * whose directory is gone (the VM was removed, on any member) is taken back.
 * Never in the VM's own directory, which its QEMU can write.
 */
import path from 'node:path';
import { fail } from '../../shared/index.js';
import type { AppArmorLoader } from './apparmor-load.js';
import { UidAllocDir } from './uid-alloc-dir.js';

export interface QemuUserOptions {
  /** The shared group's gid; VMs get the uids base+1 … base+count. */
  base: number;
  count: number;
  /** Where the allocations are kept (VMSDIR/.qemu-uids, 0700; shared by the members that share vmsDir). */
  allocDir: string;
  /** Folders the daemon owns (state directory, vmsDir): it may open their traversal to the shared group. */
  roots: readonly string[];
  /** More supplementary groups for QEMU (the kvm group, so /dev/kvm opens). */
  extraGroups?: readonly number[];
  /** Where the host has AppArmor (probeAppArmor): each VM's profile is loaded before its QEMU starts and QEMU is exec'd under it. */
  appArmor?: AppArmorLoader;
}

export interface VmIdentity {
  uid: number;
  gid: number;
  /** Supplementary groups: the shared group first. */
  groups: readonly number[];
  /** The AppArmor profile QEMU is exec'd under (loaded for this VM), where the host has AppArmor. */
  appArmorProfile?: string;
}

export class VmUsers {
  private chain: Promise<unknown> = Promise.resolve();
  readonly alloc: UidAllocDir;

  constructor(readonly o: QemuUserOptions) {
    this.alloc = new UidAllocDir(o.allocDir);
    if (!Number.isInteger(o.base) || o.base < 1000 || !Number.isInteger(o.count) || o.count < 1 || o.base + o.count > 0xfffffffe) {
      throw new Error(`qemu uid range ${o.base}+${o.count} is not a valid range of ids`);
    }
  }

  get sharedGid(): number {
    return this.o.base;
  }

  /** The VM's identity, allocated on its first start (serialized: one allocation at a time in this process). */
  identity(vmId: string, vmDir: string): Promise<VmIdentity> {
    return this.serial(() => this.allocate(vmId, path.resolve(vmDir)));
  }

  /**
   * Gives the VM's uid back if its directory is gone (the VM was deleted, or moved to a member with its own
   * vmsDir, which dropped the copy here). A VM that moved to a member sharing this vmsDir still runs with that
   * uid there: its directory is still there, and so is its entry.
   */
  release(vmId: string): Promise<void> {
    return this.serial(async () => {
      for (const [uid, owner] of await this.alloc.entries()) {
        if (owner.id === vmId) await this.alloc.takeBack(uid, async (o) => o.id === vmId && (await this.alloc.dirGone(o)));
      }
    });
  }

  /** Runs `fn` after every allocation and release this process asked before it (a failure does not stop the next). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private ident(uid: number): VmIdentity {
    return { uid, gid: uid, groups: [this.o.base, ...(this.o.extraGroups ?? [])] };
  }

  private async allocate(vmId: string, vmDir: string): Promise<VmIdentity> {
    await this.alloc.ensure();
    const taken = await this.alloc.entries();
    for (const [uid, owner] of taken) if (owner.id === vmId) return this.ident(uid);
    for (let uid = this.o.base + 1; uid <= this.o.base + this.o.count; uid++) {
      const owner = taken.get(uid);
      if (owner && !(await this.alloc.takeBack(uid, this.alloc.dirGone))) continue; // live, or another allocator is taking it back
      if (await this.alloc.create(uid, { id: vmId, dir: vmDir })) return this.ident(uid);
    }
    return fail('QEMU_START_FAILED', `every uid of the QEMU user range ${this.o.base + 1}-${this.o.base + this.o.count} is given to a VM`, {
      hint: 'Widen qemuUidCount in the daemon config, or remove VMs that are no longer needed.',
    });
  }
}

/**
 * The command that starts `binary argv` as the VM's user: util-linux's
 * setpriv sets the uid, gid and supplementary groups (Node's spawn cannot set
 * the latter) and drops every capability from the bounding and inheritable
 * sets, then execs QEMU in place (same PID). No shell.
 */
export function asVmUser(id: VmIdentity, binary: string, argv: readonly string[]): { binary: string; argv: string[] } {
  return {
    binary: 'setpriv',
    argv: [`--reuid=${id.uid}`, `--regid=${id.gid}`, `--groups=${id.groups.join(',')}`, '--inh-caps=-all', '--bounding-set=-all',
      ...(id.appArmorProfile ? [`--apparmor-profile=${id.appArmorProfile}`] : []), '--', binary, ...argv],
  };
}
