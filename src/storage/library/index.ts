export { ImageLibrary, type LibraryImage, type ImportRequest, type ImportProgress, type ImportOptions } from './library.js';
export { parseChecksum, findInSumsFile, hashFile, type Checksum, type HashAlgorithm } from './checksum.js';
export { downloadResumable, discardPartial, type DownloadOptions, type DownloadResult } from './download.js';
export { parseDownloadUrl, fetchText } from './http-get.js';
export { inspectImage, isIso9660, type ImageKind, type Inspected } from './inspect.js';
