/**
 * Bulk VM actions by label selector: `polyvisor vm stop -l env=test`, with
 * --dry-run, --concurrency N and a per-VM result table. A VM whose state does
 * not allow the action is skipped (and listed), never failed.
 */
import type { Command } from 'commander';
import type { PolyvisorClient, VmActionName } from '../client/index.js';
import { PolyvisorError } from '../shared/index.js';
import { table } from './format.js';

export interface BulkFlags {
  label?: string[];
  dryRun?: boolean;
  concurrency?: number;
  json?: boolean;
}

export interface BulkRow {
  vm: string;
  before: string;
  result: 'ok' | 'failed' | 'skipped' | 'would run';
  after: string | null;
  detail: string;
  ms: number;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Adds -l/--label, --dry-run and --concurrency to a `vm ACTION [name]` command. */
export function addBulkOptions(cmd: Command): Command {
  return cmd
    .option('-l, --label <k=v>', 'act on every VM with these labels instead of one name (repeatable, or k=v,k2=v2)', collect)
    .option('--dry-run', 'with -l: list what would be done, do nothing')
    .option('--concurrency <n>', 'with -l: VMs acted on at once (default 4)', (v) => Number(v));
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

/** Runs `fn` over `items`, at most `limit` at a time, keeping their order in the result. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

export async function runBulk(client: PolyvisorClient, action: VmActionName, f: BulkFlags, body: Record<string, unknown>, out: (s: string) => void): Promise<BulkRow[]> {
  const labels = parseSelector(f.label ?? []);
  if (!Object.keys(labels).length) throw new PolyvisorError('INVALID_ARGUMENT', 'give a VM name or a label selector (-l KEY=VALUE)');
  const conc = f.concurrency ?? 4;
  if (!Number.isInteger(conc) || conc < 1 || conc > 64) throw new PolyvisorError('INVALID_ARGUMENT', '--concurrency must be an integer from 1 to 64');
  const vms = await client.listVms({ labels });
  const rows = await mapLimit(vms, conc, async (v): Promise<BulkRow> => {
    const base = { vm: v.name, before: v.state };
    if (!v.actions.includes(action)) return { ...base, result: 'skipped', after: v.state, detail: `${action} not allowed while ${v.state}`, ms: 0 };
    if (f.dryRun) return { ...base, result: 'would run', after: null, detail: `would ${action}`, ms: 0 };
    const t0 = Date.now();
    try {
      const after = await client.action(v.name, action, body);
      return { ...base, result: 'ok', after: after.state, detail: after.stateReason, ms: Date.now() - t0 };
    } catch (err) {
      return { ...base, result: 'failed', after: null, detail: (err as Error).message, ms: Date.now() - t0 };
    }
  });
  if (f.json) out(JSON.stringify(rows, null, 2) + '\n');
  else {
    out(table(['VM', 'BEFORE', 'RESULT', 'AFTER', 'TIME', 'DETAIL'], rows.map((r) => [r.vm, r.before, r.result, r.after ?? '-', r.ms ? `${(r.ms / 1000).toFixed(1)}s` : '-', r.detail])));
    const count = (k: BulkRow['result']) => rows.filter((r) => r.result === k).length;
    out(`${rows.length} VM(s) match ${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',')}: ${f.dryRun ? `${count('would run')} would run` : `${count('ok')} ok, ${count('failed')} failed`}, ${count('skipped')} skipped\n`);
  }
  const failed = rows.filter((r) => r.result === 'failed');
  if (failed.length) throw new PolyvisorError('BULK_FAILED', `${action} failed for ${failed.map((r) => r.vm).join(', ')}`);
  return rows;
}
