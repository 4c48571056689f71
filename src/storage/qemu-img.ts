/**
 * The qemu-img operations Polyvisor needs. Argv arrays only; every call has a
 * timeout and an AbortSignal; outputs appear under their real name only when
 * complete (temp name, fsync, link/rename).
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PolyvisorError, fail } from '../shared/index.js';
import { regionFilename, type ImageRegion } from './image-region.js';
import { IMAGE_FORMATS, UNCHECKABLE, parseImageCheck, parseImageInfo, type ImageCheck, type ImageFormat, type ImageInfo } from './image-info.js';
import { progressParser } from './progress.js';
import { runQemuImg, stderrTail, type QemuImgOptions } from './qemu-img-run.js';
import { writeViaTemp, type CommitOptions } from './temp-output.js';

const SECOND = 1000;

export interface CreateImageOptions extends QemuImgOptions, CommitOptions {}

/** Creates an empty image of `sizeBytes` (qemu-img rounds up to 512) at `path`. */
export async function createImage(
  path: string,
  format: ImageFormat,
  sizeBytes: number,
  opts: CreateImageOptions = {},
): Promise<void> {
  checkFormat(format);
  path = resolve(path); // absolute: qemu-img never reads it as an option or a "proto:" URL
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) {
    fail('INVALID_ARGUMENT', `image size must be a positive whole number of bytes, not ${sizeBytes}`);
  }
  await writeViaTemp(path, opts, async (tmp) => {
    const r = await runQemuImg(['create', '-q', '-f', format, tmp, String(sizeBytes)], {
      ...opts,
      timeoutMs: opts.timeoutMs ?? 60 * SECOND,
    });
    if (r.code !== 0) fail('DISK_CREATE_FAILED', `creating ${format} image ${path} failed: ${stderrTail(r)}`);
  });
}

export interface ImageInfoOptions extends QemuImgOptions {
  /** Read the image as this format instead of probing (safer for untrusted files). */
  format?: ImageFormat;
  /** Pass -U: read an image a running VM holds open (the answer may be slightly stale). */
  forceShare?: boolean;
  /**
   * The image lies at this byte range of `path` (an OVA's member, read in place: image-region.ts); `format` then
   * names its format driver (any READABLE_FORMATS), or qemu probes it when absent.
   */
  region?: ImageRegion & { format?: string };
}

export async function imageInfo(path: string, opts: ImageInfoOptions = {}): Promise<ImageInfo> {
  path = resolve(path);
  await mustExist(path);
  const target = opts.region === undefined ? path : regionFilename(path, opts.region, opts.region.format);
  const args = ['info', '--output=json', ...(opts.region === undefined ? formatArgs(opts.format) : []), ...(opts.forceShare ? ['-U'] : []), target];
  const r = await runQemuImg(args, { ...opts, timeoutMs: opts.timeoutMs ?? 30 * SECOND });
  if (r.code !== 0) fail('IMAGE_INVALID', `cannot read image ${path}: ${stderrTail(r)}`);
  return parseImageInfo(r.stdout);
}

/**
 * Runs qemu-img check. Corruptions and leaks are reported in the result, not
 * thrown; an image qemu-img cannot open at all is IMAGE_INVALID.
 */
export async function checkImage(path: string, opts: ImageInfoOptions = {}): Promise<ImageCheck> {
  path = resolve(path);
  await mustExist(path);
  const args = ['check', '--output=json', ...formatArgs(opts.format), ...(opts.forceShare ? ['-U'] : []), path];
  const r = await runQemuImg(args, { ...opts, timeoutMs: opts.timeoutMs ?? 30 * 60 * SECOND });
  // 0 clean, 2 corrupt, 3 leaks only, 63 the format has no check, 1 could not check.
  if (r.code === 63) return UNCHECKABLE;
  if (r.code === 0 || r.code === 2 || r.code === 3) return parseImageCheck(r.stdout);
  fail('IMAGE_INVALID', `cannot check image ${path}: ${stderrTail(r)}`);
}

export interface ConvertOptions extends QemuImgOptions, CommitOptions {
  /** Output format. */
  format: ImageFormat;
  /** Source format; probed when absent (give it for files you did not create). */
  sourceFormat?: ImageFormat;
  /** Called with 0..1 as qemu-img reports progress; the last call is 1. */
  onProgress?: (fraction: number) => void;
  /** Throttle to this many bytes per second (qemu-img -r). */
  rateLimitBytesPerSec?: number;
}

export async function convertImage(src: string, dst: string, opts: ConvertOptions): Promise<void> {
  checkFormat(opts.format);
  if (opts.sourceFormat !== undefined) checkFormat(opts.sourceFormat);
  src = resolve(src);
  dst = resolve(dst);
  await mustExist(src);
  const rate = opts.rateLimitBytesPerSec;
  if (rate !== undefined && (!Number.isSafeInteger(rate) || rate <= 0)) {
    fail('INVALID_ARGUMENT', `rate limit must be a positive whole number of bytes per second, not ${rate}`);
  }
  const progress = opts.onProgress ? progressParser(opts.onProgress) : undefined;
  await writeViaTemp(dst, opts, async (tmp) => {
    const args = [
      'convert',
      ...(progress ? ['-p'] : []),
      ...formatArgs(opts.sourceFormat),
      '-O',
      opts.format,
      ...(rate !== undefined ? ['-r', String(rate)] : []),
      src,
      tmp,
    ];
    const r = await runQemuImg(args, {
      ...opts,
      timeoutMs: opts.timeoutMs ?? 6 * 3600 * SECOND,
      onStdout: progress ? (c) => progress.push(c) : undefined,
    });
    if (r.code !== 0) fail('DISK_CREATE_FAILED', `converting ${src} to ${opts.format} at ${dst} failed: ${stderrTail(r)}`);
  });
  progress?.done();
}

function formatArgs(format: ImageFormat | undefined): string[] {
  return format === undefined ? [] : ['-f', format];
}

function checkFormat(format: string): void {
  if (!(IMAGE_FORMATS as readonly string[]).includes(format)) {
    fail('INVALID_ARGUMENT', `image format must be one of ${IMAGE_FORMATS.join(', ')}, not ${JSON.stringify(format)}`);
  }
}

async function mustExist(path: string): Promise<void> {
  try {
    await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new PolyvisorError('FILE_NOT_FOUND', `image ${path} does not exist`, { cause: err });
    throw new PolyvisorError('IMAGE_INVALID', `cannot read image ${path}`, { cause: err });
  }
}
