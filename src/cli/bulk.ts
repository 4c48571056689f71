/**
 * Bulk VM actions by label selector: `polyvisor vm stop -l env=test`, with
 * --dry-run, --concurrency N and a per-VM result table. The daemon runs them
 * as one operation (POST /v1/vms/actions); this draws its progress (n of m
 * VMs done) and prints its report. A VM whose state does not allow the action
 * is skipped (and listed), never failed.
 */
import type { Command } from 'commander';
import { BulkClient, type BulkRequest, type PlatformClient } from '../client/index.js';
import { isErrorCode, PolyvisorError } from '../shared/index.js';
import type { BulkActionName, BulkReport, BulkVmResult, OperationView } from '../spec/index.js';
import { table } from './format.js';
import { ProgressBar } from './progress-bar.js';

export interface BulkFlags {
  label?: string[];
  dryRun?: boolean;
  concurrency?: number;
  json?: boolean;
  progress?: boolean;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Adds -l/--label, --dry-run and --concurrency to a `vm ACTION [name]` command. */
export function addBulkOptions(cmd: Command): Command {
  return cmd
    .option('-l, --label <k=v>', 'act on every VM with these labels instead of one name (repeatable, or k=v,k2=v2)', collect)
    .option('--dry-run', 'with -l: list what would be done, do nothing')
    .option('--concurrency <n>', 'with -l: VMs acted on at once (default 4)', (v) => Number(v))
    .option('--no-progress', 'with -l: no progress line on stderr');
}

export function parseSelector(sel: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of sel.flatMap((x) => x.split(',')).filter(Boolean)) {
    const i = s.indexOf('=');
    if (i <= 0) throw new PolyvisorError('INVALID_ARGUMENT', `label selector "${s}" is not KEY=VALUE`);
    out[s.slice(0, i)] = s.slice(i + 1);
  }
  return out;
}

/** The DETAIL column: why it failed or was skipped, what it made. */
export function detailOf(r: BulkVmResult, action: BulkActionName): string {
  if (r.error) return `error[${r.error.code}]: ${r.error.message}`;
  if (r.result === 'planned') return `would ${action}`;
  if (r.reason) return r.reason;
  return r.output ? Object.entries(r.output).map(([k, v]) => `${k}=${String(v)}`).join(' ') : '';
}

/** The per-VM table and its summary line. */
export function renderReport(rep: BulkReport): string {
  const shown = (r: BulkVmResult): string => (r.result === 'planned' ? 'would run' : r.result);
  const rows = rep.results.map((r) => [r.vm, r.before, shown(r), r.after ?? '-', r.ms ? `${(r.ms / 1000).toFixed(1)}s` : '-', detailOf(r, rep.action)]);
  const count = (k: BulkVmResult['result']) => rep.results.filter((r) => r.result === k).length;
  const what = [rep.selector, rep.names?.join(',')].filter(Boolean).join(' ');
  return (rows.length ? table(['VM', 'BEFORE', 'RESULT', 'AFTER', 'TIME', 'DETAIL'], rows) : '')
    + `${rep.total} VM(s) match ${what}: ${rep.dryRun ? `${count('planned')} would run` : `${rep.ok} ok, ${rep.failed} failed`}, ${rep.skipped} skipped\n`;
}

const progressText = (op: OperationView): string => {
  const r = BulkClient.reportOf(op);
  return r ? `${r.action}: ${r.done}/${r.total} VMs done (${r.ok} ok, ${r.failed} failed, ${r.skipped} skipped)` : op.kind;
};

export async function runBulk(
  c: { bulk: BulkClient; platform: PlatformClient }, action: BulkActionName, f: BulkFlags, options: Record<string, unknown>, out: (s: string) => void,
): Promise<BulkReport> {
  const labels = parseSelector(f.label ?? []);
  if (!Object.keys(labels).length) throw new PolyvisorError('INVALID_ARGUMENT', 'give a VM name or a label selector (-l KEY=VALUE)');
  const conc = f.concurrency ?? 4;
  if (!Number.isInteger(conc) || conc < 1 || conc > 64) throw new PolyvisorError('INVALID_ARGUMENT', '--concurrency must be an integer from 1 to 64');
  const req: BulkRequest = {
    action, selector: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','), concurrency: conc,
    ...(f.dryRun ? { dryRun: true } : {}), ...(Object.keys(options).length ? { options } : {}),
  };
  let op = await c.bulk.start(req);
  const bar = f.progress === false || f.dryRun ? undefined : new ProgressBar();
  try {
    while (op.status === 'running') {
      op = await c.platform.waitOperation(op.id, 1);
      bar?.update({ fraction: op.progress, text: progressText(op) });
    }
  } finally {
    bar?.done();
  }
  const rep = BulkClient.reportOf(op);
  if (rep) out(f.json ? JSON.stringify(rep.results, null, 2) + '\n' : renderReport(rep));
  if (op.status !== 'succeeded' || !rep) {
    const e = op.error ?? { code: 'BULK_FAILED', message: `bulk ${action} ${op.status}`, hint: '' };
    throw new PolyvisorError(isErrorCode(e.code) ? e.code : 'BULK_FAILED', e.message, e.hint ? { hint: e.hint } : undefined);
  }
  return rep;
}
