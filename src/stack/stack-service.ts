/**
 * Declarative stacks (issue 21): plan, apply, status, drift, down and
 * destroy of a stack, against what the daemon knows is there. The planner is
 * pure (plan.ts); this gathers the actual state, takes the one-apply-at-a-
 * time lock of each stack in the store (stack-lock.ts, so daemons sharing a
 * store see each other's) and keeps the stack's record there.
 */
import { anySignal, fail, isPolyvisorError, type Logger } from '../shared/index.js';
import type {
  StackApplyView, StackChangeView, StackDriftView, StackGraphView, StackMemberStatusView, StackPlanView, StackStatusView, StackSummaryView,
} from '../spec/index.js';
import type { NetworkService, VmService } from '../lifecycle/index.js';
import type { PoolService } from '../storage/index.js';
import type { MetaStore } from '../store/index.js';
import { applyStack } from './apply.js';
import { graphDot, graphText } from './graph.js';
import { ownedBy } from './ownership.js';
import { planStack, type ActualState, type ActualVolume } from './plan.js';
import { checkOnce } from './readiness.js';
import { resolveStack, type DesiredStack } from './resolve.js';
import { StackRecords, type StackRecord } from './stack-records.js';
import { StackLocks, refuseBusy, type StackLockOptions } from './stack-lock.js';

export interface StackServiceOptions {
  vms: VmService;
  meta: MetaStore;
  networks?: NetworkService | undefined;
  pools?: PoolService | undefined;
  logger: Logger;
  /** The store lock's timing and identity (tests); defaults: 60 s, this host and PID. */
  lock?: Omit<StackLockOptions, 'logger'>;
}

export interface StackRunOptions {
  signal: AbortSignal;
  onReport?(r: StackApplyView): void;
  /** apply only: on a failure, remove what this apply created, in reverse dependency order. */
  rollbackOnFailure?: boolean;
}

export class StackService {
  private readonly records: StackRecords;
  /** The store-held locks of stacks with an apply, down or destroy under way (on any daemon of the store). */
  private readonly locks: StackLocks;
  private readonly log: Logger;

  constructor(private readonly o: StackServiceOptions) {
    this.records = new StackRecords(o.meta);
    this.log = o.logger.child({ component: 'stack' });
    this.locks = new StackLocks(o.meta, { ...o.lock, logger: this.log });
  }

  /** Fails with STACK_BUSY, naming the holder, while an apply, down or destroy of `name` runs on any daemon of this store. */
  async refuseIfBusy(name: string): Promise<void> {
    const h = await this.locks.holder(name);
    if (h) refuseBusy(name, h);
  }

  /** Validates a stack document with its variable values (STACK_INVALID, STACK_CYCLE). */
  resolve(doc: unknown, variables: Record<string, string> = {}): DesiredStack {
    return resolveStack(doc, variables);
  }

  async plan(desired: DesiredStack): Promise<StackPlanView> {
    return planStack(desired, await this.actual(desired, await this.records.get(desired.name)));
  }

  graph(desired: DesiredStack): StackGraphView {
    return { stack: desired.name, order: desired.graph.order, edges: desired.graph.edges, text: graphText(desired.graph), dot: graphDot(desired.graph, desired.name) };
  }

  /** Refused with STACK_BUSY while another apply, down or destroy of the stack runs; refused with STACK_CONFLICT before anything changes. */
  async apply(desired: DesiredStack, o: StackRunOptions): Promise<StackApplyView> {
    return this.locked(desired.name, 'apply', o, async (o) => {
      const before = await this.records.get(desired.name);
      const plan = planStack(desired, await this.actual(desired, before));
      const rec: StackRecord = { name: desired.name, desired, networks: before?.networks ?? [], volumes: before?.volumes ?? [], appliedAt: new Date().toISOString() };
      await this.records.put(rec);
      this.log.info({ stack: desired.name, summary: plan.summary }, 'stack apply');
      const poolOf = (name: string): string | null => rec.volumes.find((v) => v.name === name)?.pool ?? null;
      const undo = async (err: unknown): Promise<never> => {
        // Rolled back: the last applied state is the one before this apply again (none: the stack is forgotten once it owns nothing).
        if (o.rollbackOnFailure && isPolyvisorError(err, 'STACK_APPLY_FAILED')) {
          if (before) await this.records.put({ ...rec, desired: before.desired, appliedAt: before.appliedAt });
          else if (rec.networks.length === 0 && rec.volumes.length === 0 && (await this.ownedVms(desired.name)).length === 0) await this.records.remove(desired.name);
        }
        throw err;
      };
      return applyStack({
        vms: this.o.vms, networks: this.o.networks, pools: this.o.pools,
        own: async (kind, pool, name) => {
          if (kind === 'network' && !rec.networks.includes(name)) rec.networks.push(name);
          if (kind === 'volume' && !rec.volumes.some((v) => v.pool === pool && v.name === name)) rec.volumes.push({ pool: pool!, name });
          await this.records.put(rec);
        },
        disown: async (kind, pool, name) => {
          if (kind === 'network') rec.networks = rec.networks.filter((n) => n !== name);
          else rec.volumes = rec.volumes.filter((v) => !(v.pool === pool && v.name === name));
          await this.records.put(rec);
        },
      }, desired, plan, o, poolOf).catch(undo);
    });
  }

  async list(): Promise<StackSummaryView[]> {
    const out: StackSummaryView[] = [];
    for (const name of await this.records.names()) {
      const r = await this.records.get(name);
      if (r) out.push({ stack: name, appliedAt: r.appliedAt, vms: (await this.ownedVms(name)).length, networks: r.networks.length, volumes: r.volumes.length });
    }
    return out;
  }

  async status(name: string, signal: AbortSignal): Promise<StackStatusView> {
    const rec = await this.record(name);
    const members: StackMemberStatusView[] = [];
    const vms = new Map((await this.ownedVms(name)).map((v) => [v.name, v]));
    for (const d of rec.desired.vms) {
      const v = vms.get(d.name);
      if (!v) {
        members.push({ kind: 'vm', member: d.member, name: d.name, state: 'missing', address: null, readiness: 'n/a' });
        continue;
      }
      let readiness = 'n/a';
      if (d.ready) {
        const why = await checkOnce(this.o, d.name, d.ready, signal).catch((err: unknown) => (err as Error).message);
        readiness = why === undefined ? 'ready' : `not ready: ${why}`;
      }
      members.push({ kind: 'vm', member: d.member, name: d.name, state: v.state, address: await this.addressOf(d.name), readiness });
    }
    const nets = new Map((await this.o.networks?.list() ?? []).map((n) => [n.name, n]));
    for (const n of rec.networks) {
      const have = nets.get(n);
      members.push({ kind: 'network', member: n, name: n, state: have ? 'present' : 'missing', address: have?.subnet ?? null, readiness: 'n/a' });
    }
    for (const v of rec.volumes) {
      const have = await this.o.pools?.getVolume(v.pool, v.name).catch(() => undefined);
      members.push({ kind: 'volume', member: v.name, name: v.name, state: have ? 'present' : 'missing', address: have?.path ?? null, readiness: 'n/a' });
    }
    return { stack: name, appliedAt: rec.appliedAt, members, order: rec.desired.graph.order, edges: rec.desired.graph.edges };
  }

  /** What changed out of band since the last apply: the last applied state planned against what is there now. */
  async drift(name: string): Promise<StackDriftView> {
    const rec = await this.record(name);
    const plan = planStack(rec.desired, await this.actual(rec.desired, rec));
    const words: Partial<Record<StackChangeView['action'], string>> = {
      create: 'deleted out of band: the next apply makes it again',
      start: 'stopped out of band: the next apply starts it',
      delete: 'not in the last applied file, yet the stack owns it',
    };
    const drift = plan.changes.filter((c) => c.action !== 'noop').map((c) => ({
      ...c, reason: words[c.action] ?? `changed out of band (${c.fields.map((f) => f.field).join(', ')}): the next apply sets it back`,
    }));
    return { stack: name, drift };
  }

  /** Stops every VM of the stack, dependants first. */
  async down(name: string, o: StackRunOptions): Promise<StackApplyView> {
    return this.locked(name, 'down', o, async (o) => {
      const rec = await this.record(name);
      const owned = new Map((await this.ownedVms(name)).map((v) => [v.name, v]));
      const steps: StackApplyView['steps'] = [];
      for (const level of [...rec.desired.graph.order].reverse()) {
        const vms = rec.desired.vms.filter((v) => level.includes(v.member) && owned.has(v.name));
        await Promise.all(vms.map(async (v) => {
          const t0 = Date.now();
          const step: StackApplyView['steps'][number] = { kind: 'vm', member: v.member, name: v.name, action: 'stop', result: 'done', error: null, ms: 0 };
          steps.push(step);
          try {
            const cur = await this.o.vms.get(v.name);
            if (['running', 'paused'].includes(cur.state)) await this.o.vms.stop(v.name, { signal: o.signal, timeoutSeconds: 30 });
          } catch (err) {
            Object.assign(step, { result: 'failed', error: { code: isPolyvisorError(err) ? err.code : 'INTERNAL', message: (err as Error).message } });
          }
          step.ms = Date.now() - t0;
          o.onReport?.(this.report(name, steps));
        }));
      }
      return this.finish(name, 'down', steps);
    });
  }

  /** Removes every VM, volume and network the stack owns (a VM without the stack's label is never touched), then its record. */
  async destroy(name: string, o: StackRunOptions): Promise<StackApplyView> {
    return this.locked(name, 'destroy', o, async (o) => {
      const rec = await this.record(name);
      const empty: DesiredStack = { ...rec.desired, vms: [], networks: [], volumes: [] };
      const plan = planStack(empty, await this.actual(empty, rec));
      const report = await applyStack({
        vms: this.o.vms, networks: this.o.networks, pools: this.o.pools,
        own: async () => undefined,
        disown: async (kind, pool, n) => {
          if (kind === 'network') rec.networks = rec.networks.filter((x) => x !== n);
          else rec.volumes = rec.volumes.filter((v) => !(v.pool === pool && v.name === n));
          await this.records.put(rec);
        },
      }, empty, plan, o, (n) => rec.volumes.find((v) => v.name === n)?.pool ?? null);
      await this.records.remove(name);
      return report;
    });
  }

  /** The networks a stack owns (destroying them needs network:admin). */
  async networksOf(name: string): Promise<string[]> {
    return (await this.record(name)).networks;
  }

  /** Every VM of this host carrying the stack's label. */
  private async ownedVms(name: string) {
    return (await this.o.vms.list()).filter((v) => ownedBy(v.spec, name));
  }

  private async record(name: string): Promise<StackRecord> {
    const rec = await this.records.get(name);
    if (!rec) fail('STACK_NOT_FOUND', `no stack named ${name}`);
    return rec;
  }

  /** What exists of `desired` (by name) and of what the stack owns. */
  private async actual(desired: DesiredStack, rec: StackRecord | undefined): Promise<ActualState> {
    const wanted = new Set(desired.vms.map((v) => v.name));
    const vms = (await this.o.vms.list()).filter((v) => wanted.has(v.name) || ownedBy(v.spec, desired.name))
      .map((v) => ({ name: v.name, spec: v.spec, state: v.state }));
    const ownedNets = new Set(rec?.networks ?? []);
    const wantedNets = new Set([...desired.networks.map((n) => n.name), ...ownedNets]);
    const networks = (await this.o.networks?.list() ?? []).filter((n) => wantedNets.has(n.name))
      .map((n) => ({ name: n.name, config: n, owned: ownedNets.has(n.name) }));
    const ownedVols = new Set((rec?.volumes ?? []).map((v) => `${v.pool}/${v.name}`));
    const volumes: ActualVolume[] = [];
    const seen = new Set<string>();
    for (const v of [...desired.volumes, ...(rec?.volumes ?? [])]) {
      const k = `${v.pool}/${v.name}`;
      if (seen.has(k)) continue;
      seen.add(k);
      const have = await this.o.pools?.getVolume(v.pool, v.name).catch((err: unknown) => {
        if (isPolyvisorError(err, 'VOLUME_NOT_FOUND') || isPolyvisorError(err, 'POOL_NOT_FOUND')) return undefined;
        throw err;
      });
      if (have) volumes.push({ pool: v.pool, name: v.name, sizeBytes: have.virtualSize, format: have.format, owned: ownedVols.has(k) });
    }
    return { vms, networks, volumes };
  }

  private async addressOf(vm: string): Promise<string | null> {
    const rec = await this.o.vms.get(vm);
    const fwd = rec.spec.networks.flatMap((n) => n.portForwards.map((f) => `${f.hostAddress}:${f.hostPort}→${f.guestPort}`));
    if (this.o.networks) {
      for (const n of await this.o.networks.list()) {
        const nic = n.nics.find((x) => x.vm === vm && x.ip !== null);
        if (nic) return nic.ip;
      }
    }
    return fwd.length > 0 ? fwd.join(', ') : null;
  }

  private report(name: string, steps: StackApplyView['steps']): StackApplyView {
    return {
      stack: name, steps: steps.map((s) => ({ ...s })), done: steps.filter((s) => s.result === 'done').length,
      failed: steps.filter((s) => s.result === 'failed').length, skipped: steps.filter((s) => s.result === 'skipped').length,
    };
  }

  private finish(name: string, what: string, steps: StackApplyView['steps']): StackApplyView {
    const r = this.report(name, steps);
    if (r.failed > 0) {
      fail('STACK_APPLY_FAILED', `${what} of stack ${name}: ${r.steps.filter((s) => s.result === 'failed').map((s) => `${s.name} (${s.error!.code}: ${s.error!.message})`).join('; ')}`, { details: r });
    }
    return r;
  }

  /** Runs `fn` holding the stack's store lock; its signal also ends when another daemon took the lock over. */
  private async locked<T>(name: string, what: string, o: StackRunOptions, fn: (o: StackRunOptions) => Promise<T>): Promise<T> {
    const held = await this.locks.acquire(name, what);
    try {
      return await fn({ ...o, signal: anySignal([o.signal, held.lost]) });
    } finally {
      await held.release().catch((err: unknown) => this.log.warn({ stack: name, err: (err as Error).message }, 'stack lock not released; it expires'));
    }
  }
}
