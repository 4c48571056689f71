/**
 * An image stored inside a bigger file at a byte range — a disk member of an
 * OVA (a tar archive) — read in place instead of being copied out first, as
 * virt-v2v reads OVAs: qemu's raw driver with `offset` and `size` over the
 * file, the image's format driver on top, given to qemu-img as one `json:`
 * filename. qemu then cannot read a byte outside the range through that node.
 */
import { resolve } from 'node:path';
import { fail } from '../shared/index.js';
import { READABLE_FORMATS } from './formats.js';

/** Where the image lies in its file. */
export interface ImageRegion {
  offset: number;
  size: number;
}

/**
 * The `json:` filename of the image at `region` of `file`. `format` names the
 * format driver (one of READABLE_FORMATS); without it qemu probes the format
 * (for a check against what a descriptor says, never for raw).
 */
export function regionFilename(file: string, region: ImageRegion, format?: string): string {
  const { offset, size } = region;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(size) || size <= 0) {
    fail('INVALID_ARGUMENT', `an image region needs a whole offset >= 0 and size > 0, not ${offset}+${size}`);
  }
  if (format !== undefined && !READABLE_FORMATS.includes(format)) fail('FORMAT_UNSUPPORTED', `${format} is not a format Polyvisor reads (${READABLE_FORMATS.join(', ')})`);
  const protocol = { driver: 'file', filename: resolve(file) };
  if (format === 'raw') return `json:${JSON.stringify({ driver: 'raw', offset, size, file: protocol })}`;
  const range = { driver: 'raw', offset, size, file: protocol };
  return `json:${JSON.stringify(format === undefined ? { file: range } : { driver: format, file: range })}`;
}
