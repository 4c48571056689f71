/**
 * qemu-img beyond qcow2/raw: convert between every DiskFormat, compare two
 * images, resize, and create a linked clone (a qcow2 overlay on a backing
 * file). Argv arrays only; outputs appear only when complete.
 */
import { resolve } from 'node:path';
import { fail } from '../shared/index.js';
import { FORMAT_TRAITS, READABLE_FORMATS, type DiskFormat } from './formats.js';
import { regionFilename, type ImageRegion } from './image-region.js';
import { progressParser } from './progress.js';
import { imageInfo } from './qemu-img.js';
import { runQemuImg, stderrTail, type QemuImgOptions } from './qemu-img-run.js';
import { writeViaTemp, type CommitOptions } from './temp-output.js';

const HOUR = 3600_000;

export interface ConvertDiskOptions extends QemuImgOptions, CommitOptions {
  to: DiskFormat;
  /** qemu-img name of the source format; probed (and checked against READABLE_FORMATS) when absent. */
  from?: string;
  onProgress?: (fraction: number) => void;
  /**
   * Write straight to `dst` instead of a temp name beside it (the caller
   * already writes into a private directory, e.g. an export's staging dir, so
   * a VMDK's embedded extent name is the final one).
   */
  direct?: boolean;
  /** Read the source at this byte range of `src` (an OVA's member, in place: image-region.ts); needs `from`. */
  region?: ImageRegion;
}

/** The format qemu-img detects for `file`, refused unless it is one we read. */
export async function probeFormat(file: string, opts: QemuImgOptions = {}): Promise<string> {
  const info = await imageInfo(file, opts);
  if (!READABLE_FORMATS.includes(info.format)) {
    fail('FORMAT_UNSUPPORTED', `${file} is a ${info.format} image; Polyvisor reads ${READABLE_FORMATS.join(', ')}`);
  }
  return info.format;
}

export async function convertDisk(src: string, dst: string, opts: ConvertDiskOptions): Promise<void> {
  src = resolve(src);
  dst = resolve(dst);
  if (opts.region !== undefined && opts.from === undefined) fail('INVALID_ARGUMENT', `converting a region of ${src} needs its format`);
  const from = opts.from ?? (await probeFormat(src, opts));
  const input = opts.region === undefined ? src : regionFilename(src, opts.region, from);
  const t = FORMAT_TRAITS[opts.to];
  const progress = opts.onProgress ? progressParser(opts.onProgress) : undefined;
  const write = async (out: string): Promise<void> => {
    const args = [
      'convert', ...(progress ? ['-p'] : []), '-f', from, '-O', t.qemu,
      ...(t.options.length ? ['-o', t.options.join(',')] : []),
      input, out,
    ];
    const r = await runQemuImg(args, { ...opts, timeoutMs: opts.timeoutMs ?? 6 * HOUR, onStdout: progress ? (c) => progress.push(c) : undefined });
    if (r.code !== 0) fail('DISK_CREATE_FAILED', `converting ${src} to ${opts.to} failed: ${stderrTail(r)}`);
  };
  if (opts.direct) await write(dst);
  else await writeViaTemp(dst, opts, write);
  progress?.done();
}

/**
 * True when the guest sees the same bytes in both (qemu-img compare; a
 * shorter image counts as zero-padded). Formats are given, never probed.
 */
export async function compareImages(a: string, aFormat: string, b: string, bFormat: string, opts: QemuImgOptions = {}): Promise<boolean> {
  const r = await runQemuImg(['compare', '-q', '-f', aFormat, '-F', bFormat, resolve(a), resolve(b)], { ...opts, timeoutMs: opts.timeoutMs ?? 6 * HOUR });
  if (r.code === 0) return true;
  if (r.code === 1) return false;
  fail('IMAGE_INVALID', `cannot compare ${a} with ${b}: ${stderrTail(r)}`);
}

/** Grows an image to `sizeBytes` (shrinking is refused: it destroys data). */
export async function resizeImage(file: string, format: 'qcow2' | 'raw', sizeBytes: number, opts: QemuImgOptions = {}): Promise<void> {
  const r = await runQemuImg(['resize', '-q', '-f', format, resolve(file), String(sizeBytes)], { ...opts, timeoutMs: opts.timeoutMs ?? 60_000 });
  if (r.code !== 0) fail('DISK_CREATE_FAILED', `resizing ${file} failed: ${stderrTail(r)}`);
}

/** A qcow2 overlay at `dst` whose reads fall through to `base` (absolute path recorded). */
export async function createOverlay(base: string, baseFormat: string, dst: string, opts: QemuImgOptions = {}): Promise<void> {
  base = resolve(base);
  await writeViaTemp(resolve(dst), {}, async (tmp) => {
    const r = await runQemuImg(['create', '-q', '-f', 'qcow2', '-b', base, '-F', baseFormat, tmp], { ...opts, timeoutMs: opts.timeoutMs ?? 60_000 });
    if (r.code !== 0) fail('DISK_CREATE_FAILED', `creating an overlay of ${base} failed: ${stderrTail(r)}`);
  });
}
