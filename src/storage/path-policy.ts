/**
 * Which host files a VM spec may name (audit defect 2). A disk, CD-ROM, kernel
 * or initrd given by `path` opens a host file to the guest, so only admins may
 * name any file (like Proxmox VE, where raw paths are root's). Everyone else
 * takes files from the places Polyvisor hands out: a pool, the image library,
 * the VM's own directory, and the folders an admin listed in `pathRoots`.
 *
 * The check runs before anything looks at the file, and its answer is the
 * same whether the file exists or not, so it reveals nothing about the host.
 * Links are followed: a link inside a pool that points at /etc/shadow is
 * judged by where it points.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { fail } from '../shared/index.js';

/** The host files a spec names, with the field that names each. Pure. */
export function specHostPaths(spec: unknown): { field: string; path: string }[] {
  const out: { field: string; path: string }[] = [];
  if (typeof spec !== 'object' || spec === null) return out;
  const s = spec as { disks?: unknown; boot?: unknown };
  if (Array.isArray(s.disks)) {
    s.disks.forEach((d: unknown, i) => {
      const p = (d as { path?: unknown } | null)?.path;
      if (typeof p === 'string') out.push({ field: `disks[${i}].path`, path: p });
    });
  }
  const boot = s.boot as { kernel?: unknown; initrd?: unknown } | undefined;
  for (const k of ['kernel', 'initrd'] as const) {
    const p = boot?.[k];
    if (typeof p === 'string') out.push({ field: `boot.${k}`, path: p });
  }
  return out;
}

/** `file` is `root` or below it. Pure (both must be absolute and normalized). */
export function isInside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export interface PathPolicyOptions {
  /** The pools' directories, asked at each check (pools come and go). */
  poolDirs: () => Promise<string[]>;
  libraryDir: string;
  vmsDir: string;
  /** Folders an admin allowed for everyone (config `pathRoots`). */
  extraRoots: readonly string[];
}

export class SpecPathPolicy {
  constructor(private readonly o: PathPolicyOptions) {}

  /** The folders a non-admin's spec for VM `vmName` may take files from, as named and with links resolved. */
  async roots(vmName: string | undefined): Promise<{ named: string[]; real: string[] }> {
    const dirs = [...(await this.o.poolDirs()), this.o.libraryDir, ...this.o.extraRoots];
    if (vmName !== undefined && /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(vmName) && !vmName.includes('..')) dirs.push(path.join(this.o.vmsDir, vmName));
    const named = dirs.map((d) => path.resolve(d));
    return { named, real: await Promise.all(named.map(async (d) => realpath(d).catch(() => d))) };
  }

  /**
   * Throws PATH_NOT_ALLOWED naming every field whose file lies outside the
   * roots; admins pass unchecked.
   */
  async check(spec: unknown, who: { admin: boolean; vmName?: string | undefined }): Promise<void> {
    if (who.admin) return;
    const named = specHostPaths(spec);
    if (named.length === 0) return;
    const roots = await this.roots(who.vmName);
    const refused: { field: string; message: string }[] = [];
    for (const n of named) {
      if (!path.isAbsolute(n.path)) continue; // the spec's own validation names it
      const lexical = path.resolve(n.path);
      // Judged by where a link points (inside a real root); a file that does not exist yet by its name.
      const real = await realpath(lexical).catch(() => undefined);
      const inNamed = [...roots.named, ...roots.real].some((r) => isInside(r, lexical));
      const inReal = real === undefined || roots.real.some((r) => isInside(r, real));
      if (!inNamed || !inReal) refused.push({ field: n.field, message: `${n.path} is outside the folders your role may use` });
    }
    if (refused.length === 0) return;
    fail('PATH_NOT_ALLOWED', `${refused.map((r) => `${r.field}: ${r.message}`).join('; ')}`, { details: refused });
  }
}
