export {
  createImage,
  imageInfo,
  checkImage,
  convertImage,
  type CreateImageOptions,
  type ImageInfoOptions,
  type ConvertOptions,
} from './qemu-img.js';
export { IMAGE_FORMATS, parseImageCheck, type ImageFormat, type ImageInfo, type ImageCheck } from './image-info.js';
export type { QemuImgOptions } from './qemu-img-run.js';
export type { CommitOptions } from './temp-output.js';
export { DISKS_DIR, managedDiskPath, resolveDiskPaths, checkDiskSources } from './disk-paths.js';
export { refuseOutsideReferences } from './image-refs.js';
export { SpecPathPolicy, specHostPaths, isInside, type PathPolicyOptions } from './path-policy.js';
export { prepareDisks, removeCreatedDisks, type CreatedDisk, type PrepareDisksOptions } from './prepare-disks.js';
export { newDiskPassphrase, withSecretFile, createEncryptedImage, checkLuksImage, isLuksQcow2, encryptedCreateArgs, convertKeyed, keyedImageOpts, keyedChainOpts, LUKS_ITER_TIME_MS, type KeyedImage } from './encrypted-image.js';
export { qcow2BackingNameSync, qcow2BackingChainSync, qcow2ChainDepthSync } from './qcow2-backing.js';
export { DISK_FORMATS, FORMAT_TRAITS, READABLE_FORMATS, isDiskFormat, toDiskFormat, parseFormatList, type DiskFormat, type FormatTraits } from './formats.js';
export { convertDisk, compareImages, resizeImage, createOverlay, probeFormat, type ConvertDiskOptions } from './convert-any.js';
export { progressParser } from './progress.js';
export {
  PoolService,
  PoolCatalogue,
  DirPool,
  DEFAULT_POOL,
  POOL_KINDS,
  VOLUME_FORMATS,
  type PoolServiceOptions,
  type CloneRequest,
  type PoolKind,
  type PoolConfig,
  type PoolSpace,
  type PoolView,
  type PoolBackend,
  type VolumeFormat,
  type VolumeRef,
  type VolumeView,
  type VolumeOpOptions,
} from './pools/index.js';
export {
  ImageLibrary,
  parseChecksum,
  findInSumsFile,
  hashFile,
  inspectImage,
  isIso9660,
  type LibraryImage,
  type ImportRequest,
  type ImportProgress,
  type ImportOptions,
  type Checksum,
  type ImageKind,
} from './library/index.js';
export { seedFiles, defaultNetworkConfig, buildSeedIso, type SeedFiles } from './cloud-init/index.js';
export { exportImages, type ExportSource, type ExportedFile, type ExportProgress, type ExportResult } from './export/index.js';
