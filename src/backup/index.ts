export { BackupService, type BackupServiceOptions, type CreateBackupRequest } from './backup-service.js';
export { verifyBackup, restoreBackup, pruneBackups, type VerifyResult, type RestoreRequest, type RestoreResult, type PruneResult } from './backup-ops.js';
export { LocalDirTarget, type BackupTarget } from './target.js';
export { selectKept, isEmptyPolicy, type RetentionPolicy } from './retention.js';
export { BITMAP_PREFIX, type BackupRecord, type BackupDiskFile } from './record.js';
