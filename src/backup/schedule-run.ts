/** What one run of a backup schedule does: back up each chosen VM, then apply the schedule's retention to it. */
import { pruneBackups } from './backup-ops.js';
import type { BackupService } from './backup-service.js';
import { isEmptyPolicy } from './retention.js';
import type { BackupSchedule, ScheduleRunResult } from './schedules.js';

export function scheduleRunner(backups: BackupService): (s: BackupSchedule) => Promise<ScheduleRunResult> {
  return async (s) => {
    const out: ScheduleRunResult = { at: new Date().toISOString(), backedUp: [], pruned: [], failed: [] };
    const vms = s.vm !== undefined
      ? [s.vm]
      : (await backups.o.vms.list()).filter((r) => Object.entries(s.selector ?? {}).every(([k, v]) => r.spec.labels[k] === v)).map((r) => r.name);
    for (const vm of vms) {
      try {
        const r = await backups.create(vm, s.full ? { full: true } : {});
        out.backedUp.push({ vm, id: r.id, kind: r.kind });
        if (s.retention && !isEmptyPolicy(s.retention)) out.pruned.push(...(await pruneBackups(backups, vm, s.retention, false)).removed);
      } catch (err) {
        out.failed.push({ vm, error: (err as Error).message });
      }
    }
    return out;
  };
}
