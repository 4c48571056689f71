/** polyvisor backup schedule add|set|list|show|rm: backup schedules run by the daemon. */
import type { Command } from 'commander';
import { BackupScheduleClient, type BackupScheduleEntry, type BackupScheduleRequest } from '../client/index.js';
import { PolyvisorError } from '../shared/index.js';
import { connectionFrom, type GlobalOptions } from './context.js';
import { table } from './format.js';

interface Flags {
  vm?: string; selector?: string[]; when: string; disabled?: boolean; full?: boolean;
  keepLast?: number; keepHourly?: number; keepDaily?: number; keepWeekly?: number; keepMonthly?: number; keepYearly?: number;
}

/** A commander option parser for whole numbers ≥ 0. */
export const count = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new PolyvisorError('INVALID_ARGUMENT', `${v} is not a whole number`);
  return n;
};

function requestFrom(f: Flags): BackupScheduleRequest {
  const selector: Record<string, string> = {};
  for (const kv of f.selector ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new PolyvisorError('INVALID_ARGUMENT', `--selector ${kv}: write key=value`);
    selector[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const keep = { keepLast: f.keepLast, keepHourly: f.keepHourly, keepDaily: f.keepDaily, keepWeekly: f.keepWeekly, keepMonthly: f.keepMonthly, keepYearly: f.keepYearly };
  const retention = Object.fromEntries(Object.entries(keep).filter(([, v]) => v !== undefined));
  return {
    when: f.when, ...(f.vm ? { vm: f.vm } : {}), ...(f.selector ? { selector } : {}),
    ...(Object.keys(retention).length ? { retention } : {}), ...(f.full ? { full: true } : {}), enabled: !f.disabled,
  };
}

const describe = (s: BackupScheduleEntry): string => (s.vm ? `vm ${s.vm}` : Object.entries(s.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(','));

export function registerBackupScheduleCommands(backup: Command, program: Command, out: (s: string) => void): void {
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const client = () => {
    const c = connectionFrom(g());
    return new BackupScheduleClient({ endpoint: c.endpoint, ...(c.token ? { token: c.token } : {}) });
  };
  const print = (v: unknown, text: () => string) => out(g().json ? JSON.stringify(v, null, 2) + '\n' : text());
  const withFlags = (c: Command) => c
    .option('--vm <name>', 'back up this VM').option('--selector <key=value...>', 'or every VM with these labels')
    .requiredOption('--when <rule>', '"every 6h", "daily 02:00" or "weekly sun 03:30" (UTC)')
    .option('--keep-last <n>', 'retention after each run: newest n', count).option('--keep-hourly <n>', 'newest of each of n hours', count)
    .option('--keep-daily <n>', 'newest of each of n days', count).option('--keep-weekly <n>', 'newest of each of n weeks', count)
    .option('--keep-monthly <n>', 'newest of each of n months', count).option('--keep-yearly <n>', 'newest of each of n years', count)
    .option('--full', 'always full backups (default: incremental when possible)')
    .option('--disabled', 'keep it, but do not run it');
  const shown = (s: BackupScheduleEntry) => `schedule ${s.name}: ${describe(s)}, ${s.when}${s.enabled ? `, next run ${s.nextRunAt}` : ', disabled'}\n`;

  const sch = backup.command('schedule').description('backup schedules run by the daemon (missed runs run once at daemon start)');
  withFlags(sch.command('add <name>').description('create a backup schedule')).action(async (name: string, f: Flags) => {
    const s = await client().create(name, requestFrom(f));
    print(s, () => shown(s));
  });
  withFlags(sch.command('set <name>').description('replace what a schedule backs up and when (its history stays)')).action(async (name: string, f: Flags) => {
    const s = await client().update(name, requestFrom(f));
    print(s, () => shown(s));
  });
  sch.command('list').alias('ls').description('schedules with their next and last run').action(async () => {
    const all = await client().list();
    print(all, () => table(['NAME', 'WHAT', 'WHEN', 'NEXT RUN', 'LAST RUN', 'LAST RESULT'], all.map((s) => [
      s.name, describe(s), s.when, s.nextRunAt ?? 'disabled', s.lastRunAt ?? '-',
      s.lastResult ? `${s.lastResult.backedUp.length} backed up, ${s.lastResult.failed.length} failed, ${s.lastResult.pruned.length} pruned` : '-',
    ])));
  });
  sch.command('show <name>').description('one schedule, with its last run in full').action(async (name: string) => {
    const s = await client().get(name);
    out(JSON.stringify(s, null, 2) + '\n');
  });
  sch.command('rm <name>').alias('delete').description('remove a schedule (its backups stay)').action(async (name: string) => {
    await client().remove(name);
    out(`schedule ${name}: removed\n`);
  });
}
