/**
 * An image taken in from outside (a library import, a volume import) must
 * not read other host files (audit defect 12): a qcow2 backing file or a vmdk
 * descriptor's extent may name any path (`/etc/shadow`, a block device), and
 * `qemu-img convert` would copy that file's bytes into the new disk.
 */
import path from 'node:path';
import { fail } from '../shared/index.js';
import type { ImageInfo } from './image-info.js';

/** Throws IMAGE_INVALID when `info` (of `file`) reads a backing file, or extents outside the file's own folder. */
export function refuseOutsideReferences(file: string, info: Pick<ImageInfo, 'backingFile' | 'extentFiles'>): void {
  if (info.backingFile !== undefined) fail('IMAGE_INVALID', `${path.basename(file)} has a backing file (${info.backingFile}); flatten it first (qemu-img convert -O qcow2 IN OUT) and import the result`);
  // A split vmdk's extents sit beside its descriptor (NAME-s001.vmdk…); anything elsewhere is foreign.
  const dir = path.dirname(path.resolve(file));
  const foreign = info.extentFiles.filter((e) => path.dirname(path.resolve(dir, e)) !== dir);
  if (foreign.length > 0) fail('IMAGE_INVALID', `${path.basename(file)} is a descriptor whose extents read other files (${foreign.join(', ')}); convert a monolithic copy (qemu-img convert -O vmdk -o subformat=monolithicSparse) and import that`);
}
