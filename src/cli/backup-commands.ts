/** polyvisor backup create|list|verify|restore|prune VM …: backups of a VM. */
import type { Command } from 'commander';
import { BackupClient, type BackupEntry, type BackupPolicy } from '../client/index.js';
import { connectionFrom, platformFrom, type GlobalOptions } from './context.js';
import { formatBytes, table } from './format.js';
import { count, registerBackupScheduleCommands } from './backup-schedule-commands.js';
import { followOperation } from './follow-operation.js';
import { mib } from './progress-bar.js';


export function registerBackupCommands(program: Command, out: (s: string) => void): void {
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const client = () => {
    const c = connectionFrom(g());
    return new BackupClient({ endpoint: c.endpoint, ...(c.token ? { token: c.token } : {}) });
  };
  const print = (v: unknown, text: () => string) => out(g().json ? JSON.stringify(v, null, 2) + '\n' : text());

  const b = program.command('backup').description('full and incremental backups of a VM');
  registerBackupScheduleCommands(b, program, out);
  b.command('create <vm>').description('back up a VM (incremental when its dirty bitmap can be trusted)').option('--full', 'force a full backup')
    .option('--bwlimit <MiBps>', 'cap the copy of each disk (MiB/s)', count)
    .option('--no-progress', 'no progress bar')
    .action(async (vm: string, o: { full?: boolean; bwlimit?: number; progress?: boolean }) => {
      const op = await client().createAsync(vm, { ...(o.full ? { full: true } : {}), ...(o.bwlimit ? { bwlimitMiB: o.bwlimit } : {}) });
      const cur = await followOperation(platformFrom(g()), op, {
        failCode: 'BACKUP_FAILED', ...(o.progress === false ? { progress: false } : {}),
        text: (c) => {
          const d = (c.detail ?? {}) as { phase?: string; doneBytes?: number; totalBytes?: number };
          return `${d.phase ?? ''} ${mib(d.doneBytes ?? 0)} of ${mib(d.totalBytes ?? 0)}`;
        },
      });
      const r = cur.result as BackupEntry;
      const bytes = r.disks.reduce((n, d) => n + d.sizeBytes, 0);
      print(r, () => `backup ${vm}/${r.id}: ${r.kind} (${r.mode}), ${formatBytes(bytes)} in ${(r.durationMs / 1000).toFixed(1)} s${r.fullReason ? `\n  full because ${r.fullReason}` : ''}\n`);
    });
  b.command('list <vm>').alias('ls').description('backups of a VM, oldest first').action(async (vm: string) => {
    const rs = await client().list(vm);
    print(rs, () => table(['ID', 'KIND', 'MODE', 'PARENT', 'SIZE', 'SECONDS', 'CREATED'], rs.map((r) => [
      r.id, r.kind, r.mode, r.parent ?? '-', formatBytes(r.disks.reduce((n, d) => n + d.sizeBytes, 0)), (r.durationMs / 1000).toFixed(1), r.createdAt,
    ])));
  });
  b.command('verify <vm> <id>').description('check the checksums and images of a backup and its chain; --boot also boots it in a scratch VM')
    .option('--boot', 'restore into a scratch VM (no network) and wait for the guest to be ready')
    .option('--boot-timeout <seconds>', 'how long the guest gets to boot (default 300)', count)
    .action(async (vm: string, id: string, o: { boot?: boolean; bootTimeout?: number }) => {
      const r = await client().verify(vm, id, { ...(o.boot ? { boot: true } : {}), ...(o.bootTimeout ? { bootTimeoutSeconds: o.bootTimeout } : {}) });
      const boot = r.boot ? (r.boot.booted ? `, booted in ${(r.boot.ms / 1000).toFixed(1)} s` : ', did not boot') : '';
      print(r, () => (r.ok ? `backup ${vm}/${id}: ok (${r.checked.length} images${boot})\n` : `backup ${vm}/${id}: FAILED\n${r.problems.map((p) => `  ${p}\n`).join('')}`));
      if (!r.ok) process.exitCode = 1;
    });
  b.command('restore <vm> <id>').description('restore over the (stopped) VM with --yes, or into a new VM with --to')
    .option('--to <newVm>', 'create a new VM from the backup')
    .option('--disk <name...>', 'restore only these disks')
    .option('-y, --yes', 'confirm replacing the VM\'s disks')
    .action(async (vm: string, id: string, o: { to?: string; disk?: string[]; yes?: boolean }) => {
      const r = await client().restore(vm, id, { ...(o.to ? { toVm: o.to } : {}), ...(o.disk ? { disks: o.disk } : {}), ...(o.yes ? { confirm: true } : {}) });
      print(r, () => `backup ${id}: restored ${r.disks.join(', ')} ${r.createdVm ? `into new VM ${r.vm}` : `over VM ${r.vm}`}\n`);
    });
  b.command('prune <vm>').description('delete backups a retention policy does not keep (chains stay whole)')
    .option('--keep-last <n>', 'newest n', count).option('--keep-hourly <n>', 'newest of each of n hours', count)
    .option('--keep-daily <n>', 'newest of each of n days', count).option('--keep-weekly <n>', 'newest of each of n weeks', count)
    .option('--keep-monthly <n>', 'newest of each of n months', count).option('--keep-yearly <n>', 'newest of each of n years', count)
    .option('--dry-run', 'only say what would go')
    .action(async (vm: string, o: BackupPolicy & { dryRun?: boolean }) => {
      const { dryRun, ...policy } = o;
      const r = await client().prune(vm, policy, dryRun ?? false);
      print(r, () => `${r.kept.map((k) => `keep   ${k.id}  (${k.why.join(', ')})\n`).join('')}${r.removed.map((id) => `${r.dryRun ? 'would remove' : 'removed'} ${id}\n`).join('')}`);
    });
}
