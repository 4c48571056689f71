/**
 * Each VM's QEMU as its own unprivileged user (issue 23, audit defect 5; like
 * libvirt's DAC labels with dynamic ownership): a uid from a configured range,
 * given to one VM per host and kept for it, with a gid of the same number and
 * the range's shared group as a supplementary one (it lets QEMU pass through
 * the daemon's folders and read shared read-only inputs, nothing more).
 *
 * Allocation is a file per uid in `allocDir` created with O_EXCL (so two VMs
 * starting at once never get the same uid, even across daemon restarts),
 * holding the VM's id and its directory; an entry whose directory is gone
 * (the VM was removed) is taken back. The files live in the daemon's state
 * directory, never in the VM's own directory, which its QEMU can write.
 */
import { mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fail } from '../../shared/index.js';
import type { AppArmorLoader } from './apparmor-load.js';

export interface QemuUserOptions {
  /** The shared group's gid; VMs get the uids base+1 … base+count. */
  base: number;
  count: number;
  /** Where the allocations are kept (a folder of the state directory, 0700). */
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

  constructor(readonly o: QemuUserOptions) {
    if (!Number.isInteger(o.base) || o.base < 1000 || !Number.isInteger(o.count) || o.count < 1 || o.base + o.count > 0xfffffffe) {
      throw new Error(`qemu uid range ${o.base}+${o.count} is not a valid range of ids`);
    }
  }

  get sharedGid(): number {
    return this.o.base;
  }

  /** The VM's identity, allocated on its first start (serialized: one allocation at a time in this process). */
  identity(vmId: string, vmDir: string): Promise<VmIdentity> {
    const next = this.chain.then(() => this.allocate(vmId, path.resolve(vmDir)));
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Forgets the VM's uid (its directory is being removed). */
  async release(vmId: string): Promise<void> {
    for (const [uid, owner] of await this.entries()) if (owner.id === vmId) await rm(this.file(uid), { force: true });
  }

  private ident(uid: number): VmIdentity {
    return { uid, gid: uid, groups: [this.o.base, ...(this.o.extraGroups ?? [])] };
  }

  private file(uid: number): string {
    return path.join(this.o.allocDir, String(uid));
  }

  private async entries(): Promise<Map<number, { id: string; dir: string }>> {
    const out = new Map<number, { id: string; dir: string }>();
    const names = await readdir(this.o.allocDir).catch(() => [] as string[]);
    for (const n of names) {
      if (!/^\d+$/.test(n)) continue;
      const text = await readFile(path.join(this.o.allocDir, n), 'utf8').catch(() => '');
      const [id, dir] = text.split('\n');
      if (id && dir) out.set(Number(n), { id, dir });
    }
    return out;
  }

  private async allocate(vmId: string, vmDir: string): Promise<VmIdentity> {
    await mkdir(this.o.allocDir, { recursive: true, mode: 0o700 });
    const taken = await this.entries();
    for (const [uid, owner] of taken) if (owner.id === vmId) return this.ident(uid);
    for (let uid = this.o.base + 1; uid <= this.o.base + this.o.count; uid++) {
      const owner = taken.get(uid);
      if (owner) {
        if (await stat(owner.dir).then(() => true, () => false)) continue;
        await rm(this.file(uid), { force: true }); // its VM is gone
      }
      const fh = await open(this.file(uid), 'wx', 0o600).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EEXIST') return undefined;
        throw err;
      });
      if (!fh) continue;
      try {
        await fh.writeFile(`${vmId}\n${vmDir}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return this.ident(uid);
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
