export {
  createImage,
  imageInfo,
  checkImage,
  convertImage,
  type CreateImageOptions,
  type ImageInfoOptions,
  type ConvertOptions,
} from './qemu-img.js';
export { IMAGE_FORMATS, type ImageFormat, type ImageInfo, type ImageCheck } from './image-info.js';
export type { QemuImgOptions } from './qemu-img-run.js';
export type { CommitOptions } from './temp-output.js';
export { DISKS_DIR, managedDiskPath, resolveDiskPaths, checkDiskSources } from './disk-paths.js';
export { prepareDisks, removeCreatedDisks, type CreatedDisk } from './prepare-disks.js';
