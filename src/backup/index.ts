export { BackupService, type BackupServiceOptions, type CreateBackupRequest, type BackupProgress } from './backup-service.js';
export { bootTest, READY_LINE, type BootTestResult, type BootTestOptions } from './boot-test.js';
export { verifyBackup, restoreBackup, pruneBackups, type VerifyResult, type VerifyOptions, type RestoreRequest, type RestoreResult, type PruneResult } from './backup-ops.js';
export { LocalDirTarget, type BackupTarget } from './target.js';
export { selectKept, isEmptyPolicy, type RetentionPolicy } from './retention.js';
export { BITMAP_PREFIX, type BackupRecord, type BackupDiskFile } from './record.js';
export { BackupScheduler, SCHEDULES_KEY, type ScheduleInput, type BackupSchedule, type ScheduleView, type ScheduleRunResult, type SchedulerOptions } from './schedules.js';
export { scheduleRunner } from './schedule-run.js';
export { parseRule, nextRun, type ScheduleRule } from './schedule-rule.js';
