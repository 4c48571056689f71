export { verifyRelease, assertReleaseOk, type ReleaseReport, type VerifyOptions, type FileStatus, type SignatureStatus } from './verify.js';
export { parseSums, formatSums, unsafeSumsPath, SUMS_FILE, SIGNATURE_FILE, type SumsEntry } from './sums.js';
export { readPublicKey, keyFingerprint, signatureValid } from './signature.js';
export { sha256File } from './hash-file.js';
