/** polyvisor backup create|list|verify|restore|prune VM …: backups of a VM. */
import type { Command } from 'commander';
import { BackupClient, type BackupPolicy } from '../client/index.js';
import { PolyvisorError } from '../shared/index.js';
import { connectionFrom, type GlobalOptions } from './context.js';
import { formatBytes, table } from './format.js';

const count = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new PolyvisorError('INVALID_ARGUMENT', `${v} is not a whole number`);
  return n;
};

export function registerBackupCommands(program: Command, out: (s: string) => void): void {
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const client = () => {
    const c = connectionFrom(g());
    return new BackupClient({ endpoint: c.endpoint, ...(c.token ? { token: c.token } : {}) });
  };
  const print = (v: unknown, text: () => string) => out(g().json ? JSON.stringify(v, null, 2) + '\n' : text());

  const b = program.command('backup').description('full and incremental backups of a VM');
  b.command('create <vm>').description('back up a VM (incremental when its dirty bitmap can be trusted)').option('--full', 'force a full backup')
    .action(async (vm: string, o: { full?: boolean }) => {
      const r = await client().create(vm, o.full ? { full: true } : {});
      const bytes = r.disks.reduce((n, d) => n + d.sizeBytes, 0);
      print(r, () => `backup ${vm}/${r.id}: ${r.kind} (${r.mode}), ${formatBytes(bytes)} in ${(r.durationMs / 1000).toFixed(1)} s${r.fullReason ? `\n  full because ${r.fullReason}` : ''}\n`);
    });
  b.command('list <vm>').alias('ls').description('backups of a VM, oldest first').action(async (vm: string) => {
    const rs = await client().list(vm);
    print(rs, () => table(['ID', 'KIND', 'MODE', 'PARENT', 'SIZE', 'SECONDS', 'CREATED'], rs.map((r) => [
      r.id, r.kind, r.mode, r.parent ?? '-', formatBytes(r.disks.reduce((n, d) => n + d.sizeBytes, 0)), (r.durationMs / 1000).toFixed(1), r.createdAt,
    ])));
  });
  b.command('verify <vm> <id>').description('check the checksums and images of a backup and its chain').action(async (vm: string, id: string) => {
    const r = await client().verify(vm, id);
    print(r, () => (r.ok ? `backup ${vm}/${id}: ok (${r.checked.length} images)\n` : `backup ${vm}/${id}: FAILED\n${r.problems.map((p) => `  ${p}\n`).join('')}`));
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
