/** What `polyvisor cluster rebalance` answers (docs/cluster.md "Rebalance"). */

export interface RebalanceMoveView {
  vm: string;
  from: string;
  to: string;
  /** The two hosts' loads (dominant share of CPU and memory) before and after this move, as planned. */
  loads: { from: [number, number]; to: [number, number] };
  state: 'pending' | 'moving' | 'done' | 'failed';
  error: string | null;
}

export interface RebalanceView {
  /** planned (dry run), balanced (nothing to move), moving, done, failed (some move failed). */
  state: 'planned' | 'balanced' | 'moving' | 'done' | 'failed';
  dryRun: boolean;
  threshold: number;
  /** Highest minus lowest load of the ready hosts, before and after the planned moves. */
  imbalanceBefore: number;
  imbalanceAfter: number;
  loads: Array<{ host: string; before: number; after: number }>;
  /** Why the planner stopped proposing moves. */
  stopped: string;
  moves: RebalanceMoveView[];
}
