/**
 * Runs one action over many VMs (a bulk action): at most `concurrency` at a
 * time, each VM's failure kept in its own result while the others go on,
 * progress as done of total, the report as the operation's detail after each
 * VM. A cancel stops VMs not yet begun (skipped) and aborts those under way.
 */
import { PolyvisorError } from '../shared/index.js';
import type { BulkActionName, BulkReport, BulkVmResult, VmState } from '../spec/index.js';
import type { OperationContext } from './operations.js';

export interface BulkTarget {
  name: string;
  state: VmState;
}

/** What one VM's action left: its state after (null when it left this host) and what it made. */
export interface BulkStep {
  after: VmState | null;
  output?: Record<string, unknown>;
}

export interface BulkRunRequest {
  action: BulkActionName;
  selector: string | null;
  names: string[] | null;
  targets: BulkTarget[];
  concurrency: number;
  dryRun: boolean;
  /** Why a VM in this state is skipped, or undefined when the action may run. */
  skipReason(t: BulkTarget): string | undefined;
  /** Runs the action on one VM. */
  act(name: string, signal: AbortSignal): Promise<BulkStep>;
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping their order in the result. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

function errorOf(err: unknown): NonNullable<BulkVmResult['error']> {
  const pe = err instanceof PolyvisorError ? err : new PolyvisorError('INTERNAL', 'internal error', { cause: err });
  const { code, message, hint } = pe.toJSON();
  return { code, message, hint };
}

const blank = (t: BulkTarget): BulkVmResult => ({ vm: t.name, result: 'pending', before: t.state, after: null, error: null, reason: null, output: null, ms: 0 });

/**
 * The bulk's work as an operation: resolves with the report when no VM
 * failed; otherwise throws BULK_FAILED naming the failed VMs (the report
 * stays in the operation's detail), or the cancel's reason when cancelled.
 */
export async function runBulk(r: BulkRunRequest, ctx: OperationContext): Promise<BulkReport> {
  const results = r.targets.map(blank);
  const report = (): BulkReport => {
    const count = (k: BulkVmResult['result']) => results.filter((x) => x.result === k).length;
    const ok = count('ok');
    const failed = count('failed');
    const skipped = count('skipped');
    const done = ok + failed + skipped + count('planned');
    return {
      action: r.action, selector: r.selector, names: r.names, dryRun: r.dryRun, concurrency: r.concurrency,
      total: results.length, done, ok, failed, skipped, results: results.map((x) => ({ ...x })),
    };
  };
  const publish = (): void => {
    const rep = report();
    ctx.detail?.(rep as unknown as Record<string, unknown>);
    if (rep.total > 0) ctx.progress(rep.done / rep.total);
  };
  publish();
  await mapLimit(r.targets, r.concurrency, async (t, i) => {
    const res = results[i]!;
    const skip = r.skipReason(t);
    if (skip !== undefined) Object.assign(res, { result: 'skipped', after: t.state, reason: skip });
    else if (ctx.signal.aborted) Object.assign(res, { result: 'skipped', after: t.state, reason: 'the bulk action was cancelled before this VM began' });
    else if (r.dryRun) Object.assign(res, { result: 'planned', reason: `would ${r.action} it` });
    else {
      res.result = 'running';
      publish();
      const t0 = Date.now();
      try {
        const step = await r.act(t.name, ctx.signal);
        Object.assign(res, { result: 'ok', after: step.after, output: step.output ?? null });
      } catch (err) {
        Object.assign(res, { result: 'failed', error: errorOf(err) });
      }
      res.ms = Date.now() - t0;
    }
    publish();
  });
  const rep = report();
  if (ctx.signal.aborted) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new PolyvisorError('ABORTED', `the bulk ${r.action} was cancelled`);
  if (rep.failed > 0) {
    const bad = results.filter((x) => x.result === 'failed').map((x) => `${x.vm} (${x.error!.code})`);
    throw new PolyvisorError('BULK_FAILED', `${r.action} failed for ${rep.failed} of ${rep.total} VMs: ${bad.join(', ')}`, {
      details: rep,
      hint: 'Each failed VM\'s code and message are in the operation\'s detail.results; fix those VMs and retry them by name (names: [...]).',
    });
  }
  return rep;
}
