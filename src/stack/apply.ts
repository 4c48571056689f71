/**
 * Apply: the plan's changes in dependency order, each through the existing
 * services (VmService, NetworkService, PoolService — no second path to
 * QEMU). A member begins once every member it depends on is done (and ready);
 * independent members run at once, at most `concurrency` objects at a time.
 * A failure skips the members that depend on it and leaves everything else
 * as it is: the next apply plans again from what exists and continues, as
 * Terraform and compose do — or, with rollbackOnFailure, what this apply
 * created is removed again, in reverse dependency order (rollback.ts).
 */
import { PolyvisorError, fail, timeoutSignal } from '../shared/index.js';
import type { StackApplyView, StackChangeView, StackStepView } from '../spec/index.js';
import type { NetworkService, VmService } from '../lifecycle/index.js';
import type { PoolService } from '../storage/index.js';
import { dependantsOf } from './graph.js';
import { waitReady } from './readiness.js';
import { rollBack, type CreatedObject } from './rollback.js';
import type { DesiredStack, DesiredVm } from './resolve.js';
import type { StackPlanView } from '../spec/index.js';

export interface ApplyDeps {
  vms: VmService;
  networks?: NetworkService | undefined;
  pools?: PoolService | undefined;
  /** Records that the stack owns this network or volume, before it is made. */
  own(kind: 'network' | 'volume', pool: string | null, name: string): Promise<void>;
  /** The stack no longer owns it (deleted). */
  disown(kind: 'network' | 'volume', pool: string | null, name: string): Promise<void>;
}

export interface ApplyOptions {
  signal: AbortSignal;
  /** After every step's change: the report so far. */
  onReport?(r: StackApplyView): void;
  /** Seconds a VM stop waits for the guest before it is forced (default 30). */
  stopTimeoutSeconds?: number;
  /** On a failure, remove what this apply created (not what existed before), dependants first. */
  rollbackOnFailure?: boolean;
}


const RUNNING = new Set(['running', 'paused']);

class Limit {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly max: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.active += 1;
    try {
      return await fn();
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }
}

function needs(d: ApplyDeps, what: 'networks' | 'pools'): NonNullable<ApplyDeps[typeof what]> {
  const s = d[what];
  if (!s) fail(what === 'networks' ? 'NETWORK_UNAVAILABLE' : 'STACK_INVALID', what === 'networks' ? 'this daemon runs without virtual networks' : 'this daemon has no storage pools');
  return s as NonNullable<ApplyDeps[typeof what]>;
}

async function stopIfRunning(d: ApplyDeps, name: string, o: ApplyOptions): Promise<void> {
  const rec = await d.vms.get(name);
  if (RUNNING.has(rec.state)) await d.vms.stop(name, { signal: o.signal, timeoutSeconds: o.stopTimeoutSeconds ?? 30 });
}

async function saveSpec(d: ApplyDeps, v: DesiredVm): Promise<void> {
  await d.vms.exclusive(v.name, async (cur) => d.vms.saveAdmittedSpec(cur, v.spec)); // role quotas and forward rules, as an edit
}

async function ensureRunning(d: ApplyDeps, v: DesiredVm, o: ApplyOptions): Promise<void> {
  const rec = await d.vms.get(v.name);
  if (rec.state === 'paused') await d.vms.resume(v.name, { signal: o.signal });
  else if (!RUNNING.has(rec.state)) await d.vms.start(v.name, { signal: o.signal });
  if (v.ready) await waitReady(d, v.name, v.ready, o.signal);
}

async function vmStep(d: ApplyDeps, c: StackChangeView, v: DesiredVm | undefined, o: ApplyOptions, made: () => void): Promise<void> {
  if (c.action === 'delete') {
    await stopIfRunning(d, c.name, o);
    await d.vms.remove(c.name, { force: true });
    return;
  }
  if (!v) throw new Error(`no desired VM ${c.name}`);
  if (c.action === 'replace') {
    await stopIfRunning(d, c.name, o);
    await d.vms.remove(c.name, { force: true });
  }
  if (c.action === 'create' || c.action === 'replace') {
    await d.vms.create(v.spec);
    if (c.action === 'create') made();
  }
  if (c.action === 'update-restart') await stopIfRunning(d, c.name, o);
  if (c.action === 'update' || c.action === 'update-restart') await saveSpec(d, v);
  await ensureRunning(d, v, o);
}

async function networkStep(d: ApplyDeps, c: StackChangeView, desired: DesiredStack, made: () => void): Promise<void> {
  const nets = needs(d, 'networks') as NetworkService;
  if (c.action === 'noop') return;
  if (c.action === 'delete' || c.action === 'replace') {
    await nets.remove(c.name);
    if (c.action === 'delete') await d.disown('network', null, c.name);
  }
  if (c.action === 'create' || c.action === 'replace') {
    const n = desired.networks.find((x) => x.name === c.name)!;
    await d.own('network', null, c.name);
    await nets.create(n.request);
    if (c.action === 'create') made();
  }
}

async function volumeStep(d: ApplyDeps, c: StackChangeView, desired: DesiredStack, pool: string | null, made: () => void): Promise<void> {
  const pools = needs(d, 'pools') as PoolService;
  if (c.action === 'noop') return;
  const v = desired.volumes.find((x) => x.name === c.name);
  const at = v?.pool ?? pool ?? 'default';
  if (c.action === 'delete' || c.action === 'replace') {
    await pools.deleteVolume(at, c.name);
    if (c.action === 'delete') await d.disown('volume', at, c.name);
  }
  if (!v) return;
  if (c.action === 'create' || c.action === 'replace') {
    await d.own('volume', v.pool, v.name);
    await pools.createVolume(v.pool, { name: v.name, format: v.format, sizeBytes: v.sizeBytes });
    if (c.action === 'create') made();
  }
  if (c.action === 'update') await pools.resizeVolume(v.pool, v.name, v.sizeBytes, { signal: timeoutSignal(600_000) });
}

const errorOf = (err: unknown): { code: string; message: string } => {
  const pe = err instanceof PolyvisorError ? err : new PolyvisorError('INTERNAL', 'internal error', { cause: err });
  return { code: pe.code, message: pe.message };
};

/**
 * Runs `plan` (made from `desired` a moment ago). Resolves with the report
 * when every step succeeded; throws STACK_APPLY_FAILED (report in details)
 * when one failed, or the cancel's reason when cancelled.
 */
export async function applyStack(d: ApplyDeps, desired: DesiredStack, plan: StackPlanView, o: ApplyOptions, poolOf: (name: string) => string | null = () => null): Promise<StackApplyView> {
  const steps: StackStepView[] = plan.changes.map((c) => ({ kind: c.kind, member: c.member, name: c.name, action: c.action, result: 'pending', error: null, ms: 0 }));
  const report = (): StackApplyView => ({
    stack: desired.name, steps: steps.map((s) => ({ ...s })),
    done: steps.filter((s) => s.result === 'done').length,
    failed: steps.filter((s) => s.result === 'failed').length,
    skipped: steps.filter((s) => s.result === 'skipped').length,
  });
  const publish = (): void => o.onReport?.(report());
  const limit = new Limit(desired.concurrency);
  const vmsByName = new Map(desired.vms.map((v) => [v.name, v]));
  const created: CreatedObject[] = [];
  const run = async (i: number): Promise<boolean> => {
    const c = plan.changes[i]!;
    const s = steps[i]!;
    if (o.signal.aborted) {
      Object.assign(s, { result: 'skipped', error: { code: 'ABORTED', message: 'the apply was cancelled before this step began' } });
      publish();
      return false;
    }
    return limit.run(async () => {
      s.result = 'running';
      publish();
      const t0 = Date.now();
      try {
        const made = (): void => {
          created.push({ kind: c.kind, member: c.member, name: c.name, pool: c.kind === 'volume' ? desired.volumes.find((x) => x.name === c.name)?.pool ?? poolOf(c.name) : null });
        };
        if (c.kind === 'vm') await vmStep(d, c, vmsByName.get(c.name), o, made);
        else if (c.kind === 'network') await networkStep(d, c, desired, made);
        else await volumeStep(d, c, desired, poolOf(c.name), made);
        s.result = 'done';
      } catch (err) {
        Object.assign(s, { result: 'failed', error: errorOf(err) });
      }
      s.ms = Date.now() - t0;
      publish();
      return s.result === 'done';
    });
  };
  publish();

  // Deletes first, VMs before the volumes and networks they may use.
  const order: Record<string, number> = { vm: 0, volume: 1, network: 2 };
  const deletes = plan.changes.map((c, i) => ({ c, i })).filter((x) => x.c.action === 'delete').sort((a, b) => order[a.c.kind]! - order[b.c.kind]!);
  for (const kind of ['vm', 'volume', 'network']) await Promise.all(deletes.filter((x) => x.c.kind === kind).map((x) => run(x.i)));

  // Then members in dependency order: each waits for its dependencies, then runs all its objects.
  const byMember = new Map<string, number[]>();
  plan.changes.forEach((c, i) => {
    if (c.action !== 'delete') byMember.set(c.member, [...(byMember.get(c.member) ?? []), i]);
  });
  const deps = new Map<string, string[]>();
  for (const e of desired.graph.edges) deps.set(e.from, [...(deps.get(e.from) ?? []), e.to]);
  const memberDone = new Map<string, Promise<boolean>>();
  for (const level of desired.graph.order) {
    for (const m of level) {
      memberDone.set(m, (async () => {
        const ok = await Promise.all((deps.get(m) ?? []).map((x) => memberDone.get(x) ?? Promise.resolve(true)));
        const idx = byMember.get(m) ?? [];
        if (!ok.every(Boolean)) {
          const failed = (deps.get(m) ?? []).filter((_, k) => !ok[k]);
          for (const i of idx) Object.assign(steps[i]!, { result: 'skipped', error: { code: 'STACK_APPLY_FAILED', message: `skipped: ${failed.join(', ')} did not come up` } });
          publish();
          return false;
        }
        return (await Promise.all(idx.map(run))).every(Boolean);
      })());
    }
  }
  await Promise.all(memberDone.values());
  const r = report();
  if (o.signal.aborted) throw o.signal.reason instanceof Error ? o.signal.reason : new PolyvisorError('ABORTED', `the apply of stack ${desired.name} was cancelled`);
  if (r.failed > 0 || r.skipped > 0) {
    const bad = r.steps.filter((s) => s.result === 'failed');
    const skippedNote = r.skipped > 0 ? `; ${r.skipped} skipped (${[...new Set(bad.flatMap((b) => [...dependantsOf(desired.graph, b.member)]))].join(', ') || 'cancelled'})` : '';
    let rollbackNote = '';
    let details = r;
    if (o.rollbackOnFailure) {
      const rb = await rollBack(d, desired.graph, created, o);
      steps.push(...rb);
      details = report();
      const failedRb = rb.filter((x) => x.result === 'failed');
      rollbackNote = created.length === 0 ? '; rolled back: this apply had created nothing'
        : `; rolled back: removed ${rb.filter((x) => x.result === 'done').map((x) => `${x.kind} ${x.name}`).join(', ') || 'nothing'}${failedRb.length > 0 ? `, could not remove ${failedRb.map((x) => `${x.kind} ${x.name} (${x.error!.code}: ${x.error!.message})`).join(', ')}` : ''}`;
      publish();
    }
    fail('STACK_APPLY_FAILED', `stack ${desired.name}: ${bad.map((b) => `${b.kind} ${b.name} failed (${b.error!.code}: ${b.error!.message})`).join('; ')}${skippedNote}; ${r.done} done${rollbackNote}`, { details });
  }
  return r;
}
