/**
 * Exports disk images to other formats: each output is converted in a
 * private staging directory (so a VMDK's embedded extent name is its final
 * name), then checked with `qemu-img check` where the format has one,
 * compared with its source (`qemu-img compare`) and hashed, the three at once. Only when every output
 * passed are they moved into the target directory, with a SHA256SUMS.
 */
import { lstat, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { anySignal, fail, safeJoin, validateAbsolutePath, validateName, writeFileAtomic } from '../../shared/index.js';
import { compareImages, convertDisk } from '../convert-any.js';
import { FORMAT_TRAITS, type DiskFormat } from '../formats.js';
import { hashFile } from '../library/checksum.js';
import { checkImage } from '../qemu-img.js';

export interface ExportSource {
  /** File name stem of the outputs, e.g. "web-root". */
  baseName: string;
  path: string;
  /** qemu-img format of the source. */
  format: string;
}

export interface ExportedFile {
  file: string;
  source: string;
  format: DiskFormat;
  bytes: number;
  sha256: string;
  /** `qemu-img check` ran (false for formats without one: raw, vpc). */
  checked: boolean;
  /** qemu-img compare found it identical to the source (always true: otherwise the export fails). */
  identical: true;
  seconds: number;
}

export interface ExportProgress {
  /** 0..1 over the whole export. */
  fraction: number;
  step: string;
}

export interface ExportOptions {
  signal?: AbortSignal;
  onProgress?: (p: ExportProgress) => void;
}

export interface ExportResult {
  outDir: string;
  files: ExportedFile[];
  sumsFile: string;
}

export async function exportImages(sources: readonly ExportSource[], formats: readonly DiskFormat[], outDir: string, o: ExportOptions = {}): Promise<ExportResult> {
  outDir = validateAbsolutePath(outDir, 'output directory');
  if (sources.length === 0) fail('INVALID_ARGUMENT', 'nothing to export: no disks');
  for (const s of sources) validateName(s.baseName, 'export file name');
  await mkdir(outDir, { recursive: true, mode: 0o750 });
  const jobs = sources.flatMap((s) => formats.map((f) => ({ s, f, name: `${s.baseName}${FORMAT_TRAITS[f].suffix}` })));
  for (const j of jobs) if (await exists(safeJoin(outDir, j.name))) fail('DISK_CREATE_FAILED', `${safeJoin(outDir, j.name)} already exists`, { hint: 'Remove it first, or choose another --out directory.' });
  const staging = await mkdtemp(path.join(outDir, '.pv-export-'));
  try {
    const files: ExportedFile[] = [];
    for (const [i, j] of jobs.entries()) {
      const at = (f: number, step: string) => o.onProgress?.({ fraction: (i + f) / jobs.length, step: `${j.name}: ${step}` });
      const t0 = performance.now();
      const out = path.join(staging, j.name);
      await convertDisk(j.s.path, out, { to: j.f, from: j.s.format, direct: true, ...(o.signal ? { signal: o.signal } : {}), onProgress: (f) => at(f * 0.8, 'convert') });
      const seconds = (performance.now() - t0) / 1000;
      const traits = FORMAT_TRAITS[j.f];
      at(0.8, 'verify');
      const sha256 = await verifyOutput(j.s, out, j.name, j.f, o.signal);
      files.push({ file: safeJoin(outDir, j.name), source: j.s.path, format: j.f, bytes: (await stat(out)).size, sha256, checked: traits.checkable, identical: true, seconds });
      at(1, 'done');
    }
    const moved: string[] = [];
    try {
      for (const f of files) {
        await rename(path.join(staging, path.basename(f.file)), f.file);
        moved.push(f.file);
      }
    } catch (err) {
      await Promise.all(moved.map((m) => rm(m, { force: true })));
      throw err;
    }
    const sumsFile = safeJoin(outDir, 'SHA256SUMS');
    await writeFileAtomic(sumsFile, files.map((f) => `${f.sha256}  ${path.basename(f.file)}\n`).join(''));
    return { outDir, files, sumsFile };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Check, compare and hash of one output, at the same time: each reads the
 * output (the compare also the source) once, so they share the page cache
 * and run on both cores instead of one after another (docs/data-paths.md).
 * The first to fail stops the others. Returns the SHA-256.
 */
export async function verifyOutput(src: ExportSource, out: string, name: string, format: DiskFormat, signal: AbortSignal | undefined): Promise<string> {
  const stop = new AbortController();
  const sig = signal ? anySignal([signal, stop.signal]) : stop.signal;
  const traits = FORMAT_TRAITS[format];
  const check = async () => {
    if (!traits.checkable) return;
    const c = await checkImage(out, { signal: sig });
    if (c.corruptions + c.checkErrors > 0) fail('EXPORT_VERIFY_FAILED', `qemu-img check of ${name} found ${c.corruptions} corruption(s), ${c.checkErrors} error(s)`);
  };
  const compare = async () => {
    if (!(await compareImages(src.path, src.format, out, traits.qemu, { signal: sig }))) fail('EXPORT_VERIFY_FAILED', `${name} differs from ${src.path} (qemu-img compare)`);
  };
  let first: unknown;
  const guard = <T>(p: Promise<T>): Promise<T> => p.catch((err: unknown) => {
    if (first === undefined) first = err; // the cause; the others then fail with the abort it caused
    stop.abort();
    throw err;
  });
  const steps = [guard(check()), guard(compare()), guard(hashFile(out, 'sha256', undefined, sig))] as const;
  const settled = await Promise.allSettled(steps);
  if (first !== undefined) throw first;
  return (settled[2] as PromiseFulfilledResult<string>).value;
}

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(() => true, () => false);
}
