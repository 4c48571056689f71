/**
 * Creates the images a spec asks for by size, so the VM can start. Returns
 * exactly what it created, for a caller's revert stack (DESIGN rule 6).
 */
import { lstat, mkdir, unlink } from 'node:fs/promises';
import { PolyvisorError, fail, safeJoin } from '../shared/index.js';
import type { DiskSpec, VmSpec } from '../spec/index.js';
import { DISKS_DIR, managedDiskPath } from './disk-paths.js';
import type { ImageFormat } from './image-info.js';
import { createEncryptedImage } from './encrypted-image.js';
import { createImage } from './qemu-img.js';
import type { QemuImgOptions } from './qemu-img-run.js';

export interface CreatedDisk {
  name: string;
  path: string;
  format: ImageFormat;
  sizeBytes: number;
}

/**
 * Creates every size-given disk whose image is missing under `vmDir`; an
 * existing image is left alone (so this is idempotent). If one creation
 * fails, the images made by this call are removed before the error is thrown.
 */
export interface PrepareDisksOptions extends QemuImgOptions {
  /** The passphrase of a new `encrypt: true` disk (made and stored by the caller before the image is written). */
  passphrase?: (disk: DiskSpec) => Promise<string>;
}

export async function prepareDisks(spec: VmSpec, vmDir: string, opts: PrepareDisksOptions = {}): Promise<CreatedDisk[]> {
  const { passphrase, ...qemuImg } = opts;
  const created: CreatedDisk[] = [];
  try {
    for (const d of spec.disks) {
      if (d.size === undefined) continue;
      const path = managedDiskPath(d, vmDir);
      if (await present(path)) continue;
      await mkdir(safeJoin(vmDir, DISKS_DIR), { recursive: true, mode: 0o750 });
      if (d.encrypt === true) {
        if (!passphrase) throw new Error(`disk ${d.name} is encrypted and prepareDisks got no passphrase`);
        await createEncryptedImage(path, d.size, await passphrase(d), qemuImg);
      } else {
        await createImage(path, d.format, d.size, qemuImg);
      }
      created.push({ name: d.name, path, format: d.format, sizeBytes: d.size });
    }
  } catch (err) {
    await removeCreatedDisks(created).catch(() => undefined);
    if (err instanceof PolyvisorError) throw err;
    throw new PolyvisorError('DISK_CREATE_FAILED', `could not prepare the disks of ${spec.name} in ${vmDir}`, { cause: err });
  }
  return created;
}

/** Removes images returned by prepareDisks (already-gone ones are fine). Tries all, then throws the first error. */
export async function removeCreatedDisks(disks: readonly Pick<CreatedDisk, 'path'>[]): Promise<void> {
  let first: unknown;
  for (const d of disks) {
    try {
      await unlink(d.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') first ??= err;
    }
  }
  if (first !== undefined) throw first;
}

async function present(path: string): Promise<boolean> {
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  if (!st.isFile()) fail('DISK_CREATE_FAILED', `${path} exists but is not a regular file`, { hint: 'Move it out of the VM directory.' });
  return true;
}
