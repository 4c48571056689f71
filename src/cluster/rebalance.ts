/**
 * `polyvisor cluster rebalance [--dry-run] [--threshold T]` (docs/cluster.md
 * "Rebalance"): the planner (rebalance-plan.ts) over the cluster's hosts and
 * running VMs, then its moves carried out as live migrations, at most
 * `concurrency` at once, each by the VM's owner (the daemon wiring sends a
 * move of another host's VM to that host as the caller, like any forwarded
 * write). Progress goes to the operation: the fraction of moves finished and
 * each move's state. One move's failure is noted and the others go on.
 */
import { fail } from '../shared/index.js';
import type { HostView, RebalanceMoveView, RebalanceView } from '../spec/index.js';
import type { VmRecord } from '../store/index.js';
import type { PublishedHost } from './membership.js';
import { DEFAULT_REBALANCE_THRESHOLD, planRebalance, type RebalanceVm } from './rebalance-plan.js';
import { candidatesOf, placementRequestOf } from './schedule-explain.js';
import { DEFAULT_POLICY, type Policy } from './scheduler/index.js';

const LIVE = new Set(['running', 'paused']);
export const DEFAULT_REBALANCE_CONCURRENCY = 2;
export const MAX_REBALANCE_CONCURRENCY = 16;

export interface RebalanceRequest {
  dryRun?: boolean;
  /** Imbalance (0-1) above which VMs move; default 0.2. */
  threshold?: number;
  concurrency?: number;
  /** The caller, as a forwarded request names it (`token:NAME` or `local`). */
  caller: string;
}

export interface RebalanceProgress {
  progress(fraction: number): void;
  detail?(d: Record<string, unknown>): void;
  signal?: AbortSignal;
}

export interface RebalancerOptions {
  /** Every host that ever joined, with state and capacity (host list). */
  hosts(vms: readonly VmRecord[]): Promise<HostView[]>;
  /** The live hosts (their published API address). */
  live(): Promise<PublishedHost[]>;
  /** Every VM of the cluster. */
  vms(): Promise<VmRecord[]>;
  /** Moves `vm` live from its owner `from` to `to`, as `caller`. */
  move(vm: string, from: string, to: PublishedHost, caller: string, signal?: AbortSignal): Promise<void>;
  policy?: Policy;
}

/** What the planner would do now: the hosts' loads, the imbalance and the moves. */
export async function rebalancePlan(o: Pick<RebalancerOptions, 'hosts' | 'vms' | 'policy'>, threshold = DEFAULT_REBALANCE_THRESHOLD): Promise<RebalanceView> {
  if (!(threshold >= 0 && threshold <= 1)) fail('INVALID_ARGUMENT', `threshold must be between 0 and 1 (a difference of loads), not ${threshold}`);
  const vms = await o.vms();
  const hosts = await o.hosts(vms);
  const movable: RebalanceVm[] = vms.filter((v) => LIVE.has(v.state)).map((v) => ({ name: v.name, host: v.host, request: placementRequestOf(v.name, v.spec) }));
  const plan = planRebalance({ hosts: candidatesOf(hosts, vms), vms: movable, policy: o.policy ?? DEFAULT_POLICY, threshold });
  return {
    state: 'planned', dryRun: true, threshold: plan.threshold, imbalanceBefore: plan.imbalanceBefore, imbalanceAfter: plan.imbalanceAfter,
    loads: plan.loads, stopped: plan.stopped,
    moves: plan.moves.map((m): RebalanceMoveView => ({ vm: m.vm, from: m.from, to: m.to, loads: m.loads, state: 'pending', error: null })),
  };
}

export class Rebalancer {
  constructor(private readonly o: RebalancerOptions) {}

  plan(threshold?: number): Promise<RebalanceView> {
    return rebalancePlan(this.o, threshold);
  }

  /** Plans, then moves (unless dryRun); answers the plan with each move's outcome. */
  async run(r: RebalanceRequest, p: RebalanceProgress = { progress: () => undefined }): Promise<RebalanceView> {
    const concurrency = r.concurrency ?? DEFAULT_REBALANCE_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_REBALANCE_CONCURRENCY) fail('INVALID_ARGUMENT', `concurrency must be a whole number from 1 to ${MAX_REBALANCE_CONCURRENCY}, not ${concurrency}`);
    const view = await this.plan(r.threshold);
    if (r.dryRun || view.moves.length === 0) return { ...view, state: view.moves.length ? 'planned' : 'balanced', dryRun: r.dryRun === true };
    view.dryRun = false;
    view.state = 'moving';
    const live = await this.o.live();
    const queue = [...view.moves];
    let finished = 0;
    const report = () => {
      p.progress(finished / view.moves.length);
      p.detail?.({ moves: view.moves.map((m) => ({ vm: m.vm, from: m.from, to: m.to, state: m.state, ...(m.error ? { error: m.error } : {}) })) });
    };
    report();
    const worker = async () => {
      for (let m = queue.shift(); m; m = queue.shift()) {
        if (p.signal?.aborted) { m.state = 'failed'; m.error = 'the rebalance was cancelled before this move started'; continue; }
        m.state = 'moving';
        report();
        try {
          const to = live.find((h) => h.name === m!.to);
          if (!to) fail('HOST_UNREACHABLE', `host ${m.to} is no longer live`);
          await this.o.move(m.vm, m.from, to, r.caller, p.signal);
          m.state = 'done';
        } catch (err) {
          m.state = 'failed';
          m.error = (err as Error).message;
        }
        finished += 1;
        report();
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, view.moves.length) }, worker));
    view.state = view.moves.every((m) => m.state === 'done') ? 'done' : 'failed';
    return view;
  }
}
