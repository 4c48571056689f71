/**
 * What a VM's QEMU may open when it runs as the VM's own user (vm-user.ts),
 * set on the files before QEMU opens them, as libvirt's DAC driver does:
 *
 * - its directory (sockets, pidfile, NVRAM, seed, managed disks) is owned by
 *   the VM's uid, mode 0700 — walked without following links, so a link the
 *   guest's QEMU left there never hands it another file;
 * - disks it writes outside that directory (pools, admin paths) are chowned
 *   to it;
 * - read-only inputs (CD-ROMs, kernels, read-only disks, backing files) stay
 *   as they are when the VM can already read them, else they get the shared
 *   group with g+r;
 * - every folder above them must let the VM pass: the daemon's own folders
 *   (`roots`) are opened to the shared group (0710, traverse only, no
 *   listing); any other folder that shuts the VM out is an error naming it.
 *
 * Nothing else becomes reachable: the database, the secrets, other VMs'
 * directories and disks stay owned by root or by their own VM's uid.
 */
import { chmod, chown, lchown, lstat, readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { fail, run } from '../../shared/index.js';
import type { LaunchPlan } from '../driver.js';
import type { VmIdentity, VmUsers } from './vm-user.js';

export type Access = 'rw' | 'ro';

const R = 4, X = 1;

/** Whether `id` has `bits` (r=4, w=2, x=1) on a file with these stats (owner, else group, else other: as the kernel checks). */
export function permits(st: Pick<Stats, 'uid' | 'gid' | 'mode'>, id: VmIdentity, bits: number): boolean {
  const m = st.mode & 0o777;
  if (st.uid === id.uid) return ((m >> 6) & bits) === bits;
  if (st.gid === id.gid || id.groups.includes(st.gid)) return ((m >> 3) & bits) === bits;
  return (m & bits) === bits;
}

const inside = (p: string, root: string): boolean => p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`);

export class VmFileGrants {
  constructor(private readonly users: VmUsers, public id: VmIdentity, private readonly vmDir: string) {}

  /** The same grants, with QEMU exec'd under this AppArmor profile. */
  withProfile(appArmorProfile: string): this {
    this.id = { ...this.id, appArmorProfile };
    return this;
  }

  /** The VM's directory and everything in it (no link followed) owned by the VM; the folders above it passable. */
  async ownDirectory(): Promise<void> {
    const dir = path.resolve(this.vmDir);
    await this.passable(dir);
    await this.chownTree(dir);
    await chmod(dir, 0o700);
  }

  /** A folder the daemon made inside the VM's directory after QEMU started (a move's certificates): the VM's, 0700. */
  async ownTree(dir: string): Promise<void> {
    const abs = path.resolve(dir);
    if (!inside(abs, path.resolve(this.vmDir))) throw new Error(`${abs} is not inside the VM directory ${this.vmDir}`);
    await this.chownTree(abs);
    await chmod(abs, 0o700);
  }

  /** Makes `file` openable by the VM's QEMU for `access` (see the file comment). */
  async grant(file: string, access: Access): Promise<void> {
    const abs = path.resolve(file);
    await this.passable(path.dirname(abs));
    if (inside(abs, path.resolve(this.vmDir))) {
      const st = await lstat(abs).catch(() => undefined);
      if (st && !st.isSymbolicLink()) await lchown(abs, this.id.uid, this.id.gid);
      return;
    }
    const st = await stat(abs).catch(() => undefined);
    if (!st) return; // QEMU reports a missing file itself
    if (access === 'rw') {
      if (st.uid !== this.id.uid) await chown(abs, this.id.uid, this.id.gid);
      if ((st.mode & 0o600) !== 0o600) await chmod(abs, (st.mode & 0o777) | 0o600);
      return;
    }
    if (permits(st, this.id, R)) return;
    await chown(abs, st.uid, this.users.sharedGid);
    await chmod(abs, (st.mode & 0o777) | 0o040);
  }

  /** Every read-only file a writable qcow2 image reads through its backing chain. */
  async grantBackingChain(image: string): Promise<void> {
    const r = await run('qemu-img', ['info', '--backing-chain', '-U', '--output=json', image], { timeoutMs: 30_000 });
    if (r.code !== 0) return; // not an image qemu-img reads (a raw device): no chain
    let chain: Array<{ filename?: string; 'full-backing-filename'?: string }>;
    try {
      chain = JSON.parse(r.stdout) as typeof chain;
    } catch {
      return;
    }
    for (const layer of Array.isArray(chain) ? chain.slice(1) : []) if (layer.filename) await this.grant(layer.filename, 'ro');
  }

  /** Walks from / down to `dir`: each folder must let the VM pass; the daemon's own are opened to the shared group. */
  private async passable(dir: string): Promise<void> {
    const parts = path.resolve(dir).split('/').filter(Boolean);
    let cur = '/';
    for (const part of ['', ...parts]) {
      cur = part === '' ? '/' : path.join(cur, part);
      const st = await stat(cur).catch(() => undefined);
      if (!st) return;
      if (permits(st, this.id, X)) continue;
      if (this.users.o.roots.some((r) => inside(cur, path.resolve(r)))) {
        await chown(cur, st.uid, this.users.sharedGid);
        await chmod(cur, (st.mode & 0o777) | 0o010);
        continue;
      }
      fail('VM_FILE_UNREACHABLE', `the VM's QEMU runs as uid ${this.id.uid} and cannot pass through ${cur} (mode ${(st.mode & 0o777).toString(8)}, owner ${st.uid}:${st.gid}) on the way to ${dir}`, {
        details: { folder: cur, uid: this.id.uid, sharedGid: this.users.sharedGid },
      });
    }
  }

  private async chownTree(dir: string): Promise<void> {
    await lchown(dir, this.id.uid, this.id.gid);
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await this.chownTree(p);
      else await lchown(p, this.id.uid, this.id.gid).catch(() => undefined);
    }
  }
}

/** The grants for a VM about to start: its directory, its disks (and their backing chains), kernel, initrd, CD-ROMs. */
export async function grantForStart(users: VmUsers, id: VmIdentity, o: {
  dir: string; writable: readonly string[]; readonly: readonly string[];
}): Promise<VmFileGrants> {
  const g = new VmFileGrants(users, id, o.dir);
  await g.ownDirectory();
  for (const f of o.writable) {
    await g.grant(f, 'rw');
    await g.grantBackingChain(f);
  }
  for (const f of o.readonly) await g.grant(f, 'ro');
  return g;
}


/** The host files a LaunchPlan makes QEMU open, by access (the seed CD-ROM and NVRAM live in the VM's directory). */
export function startFiles(plan: LaunchPlan): { writable: string[]; readonly: string[] } {
  const writable: string[] = [];
  const readonly: string[] = [];
  for (const d of plan.spec.disks) {
    const file = plan.diskPaths[d.name] ?? d.path;
    if (file === undefined) continue;
    (d.readOnly || d.media === 'cdrom' ? readonly : writable).push(file);
  }
  const b = plan.spec.boot;
  if (b.kernel !== undefined) readonly.push(b.kernel);
  if (b.initrd !== undefined) readonly.push(b.initrd);
  if (plan.restoreFrom !== undefined) readonly.push(plan.restoreFrom);
  return { writable, readonly };
}
