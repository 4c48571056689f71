/** What a file about to enter the library is: an ISO 9660 image, or a disk image qemu-img reads safely. */
import { refuseOutsideReferences } from '../image-refs.js';
import { open, stat } from 'node:fs/promises';
import { fail } from '../../shared/index.js';
import { READABLE_FORMATS } from '../formats.js';
import { checkImage, imageInfo } from '../qemu-img.js';
import type { QemuImgOptions } from '../qemu-img-run.js';

export type ImageKind = 'iso' | 'disk';

export interface Inspected {
  kind: ImageKind;
  /** qemu-img format name; "raw" for an ISO. */
  format: string;
  virtualSize: number;
}

/** True when the file carries the ISO 9660 "CD001" signature at sector 16. */
export async function isIso9660(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(5);
    const { bytesRead } = await fh.read(buf, 0, 5, 0x8001);
    return bytesRead === 5 && buf.toString('latin1') === 'CD001';
  } finally {
    await fh.close();
  }
}

/**
 * Refuses what must not enter the library: a "ISO" without the signature, a
 * format we do not read, an image with a backing file (it could point at
 * any host file), an encrypted or damaged image, a raw file whose size is
 * not whole sectors (a text file is not a disk).
 */
export async function inspectImage(file: string, want: ImageKind | undefined, opts: QemuImgOptions = {}): Promise<Inspected> {
  const iso = await isIso9660(file);
  const info = await imageInfo(file, opts);
  if (want === 'iso' || (want === undefined && iso && info.format === 'raw')) {
    if (!iso) fail('IMAGE_INVALID', `${file} is not an ISO 9660 image (no CD001 signature)`);
    return { kind: 'iso', format: 'raw', virtualSize: info.virtualSize };
  }
  if (!READABLE_FORMATS.includes(info.format)) fail('FORMAT_UNSUPPORTED', `the image is ${info.format}; the library takes ${READABLE_FORMATS.join(', ')} or ISO`);
  refuseOutsideReferences(file, info);
  if (info.encrypted) fail('IMAGE_INVALID', 'the image is encrypted; Polyvisor cannot use encrypted images yet');
  const bytes = (await stat(file)).size;
  if (info.format === 'raw' && (bytes === 0 || bytes % 512 !== 0)) {
    fail('IMAGE_INVALID', `the file is ${bytes} bytes, not whole 512-byte sectors: not a disk image`);
  }
  const check = await checkImage(file, opts);
  if (check.corruptions > 0 || check.checkErrors > 0) fail('IMAGE_INVALID', `qemu-img check found ${check.corruptions} corruption(s) and ${check.checkErrors} error(s)`);
  return { kind: 'disk', format: info.format, virtualSize: info.virtualSize };
}
