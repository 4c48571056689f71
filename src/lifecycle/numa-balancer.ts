/**
 * NUMA balancing (issue 22): when a running VM's guest RAM has been more than
 * `threshold` (half) on host nodes other than its home nodes for `samples`
 * samples in a row, either report it once (until it is local again) or move
 * its pages home, and start counting again. Pure: the daemon feeds it the
 * VM samplings (drivers' NumaLocality) and carries out what it returns.
 */
import type { NumaLocality } from '../drivers/index.js';

export const NUMA_BALANCING_MODES = ['off', 'report', 'migrate'] as const;
export type NumaBalancingMode = (typeof NUMA_BALANCING_MODES)[number];

export interface NumaBalancerOptions {
  mode: NumaBalancingMode;
  /** Samples in a row above the threshold before acting (the sustained period is samples × the sampling interval). */
  samples: number;
  /** Remote share above which a sample counts (default 0.5: "more than half remote"). */
  threshold?: number;
}

export interface NumaDecision {
  vm: string;
  action: 'report' | 'migrate';
  /** Host nodes holding the remote pages. */
  from: number[];
  /** The VM's home nodes. */
  to: number[];
  remoteRatio: number;
  remoteBytes: number;
  /** Whether the home nodes are the spec's binding (else: the node holding the most). */
  bound: boolean;
}

export interface NumaObservation {
  name: string;
  state: string;
  numa: NumaLocality | null | undefined;
}

export class NumaBalancer {
  private readonly streak = new Map<string, number>();
  private readonly reported = new Set<string>();

  constructor(private readonly o: NumaBalancerOptions) {}

  get mode(): NumaBalancingMode {
    return this.o.mode;
  }

  /** One sampling of the host's VMs; returns what to do now. VMs not running or without a reading lose their count. */
  observe(vms: readonly NumaObservation[]): NumaDecision[] {
    if (this.o.mode === 'off') return [];
    const threshold = this.o.threshold ?? 0.5;
    const out: NumaDecision[] = [];
    const seen = new Set<string>();
    for (const v of vms) {
      const n = v.numa;
      if (v.state !== 'running' || !n) continue;
      seen.add(v.name);
      const from = n.nodes.filter((x) => x.bytes > 0 && !n.home.includes(x.node)).map((x) => x.node);
      if (n.remoteRatio <= threshold || from.length === 0 || n.home.length === 0) {
        this.streak.delete(v.name);
        this.reported.delete(v.name);
        continue;
      }
      const count = (this.streak.get(v.name) ?? 0) + 1;
      this.streak.set(v.name, count);
      if (count < this.o.samples) continue;
      const d: NumaDecision = { vm: v.name, action: this.o.mode, from, to: [...n.home], remoteRatio: n.remoteRatio, remoteBytes: n.remoteBytes, bound: n.bound };
      if (this.o.mode === 'report') {
        if (this.reported.has(v.name)) continue; // once per episode
        this.reported.add(v.name);
      } else {
        this.streak.set(v.name, 0); // moved: it must be remote for another full period before the next move
      }
      out.push(d);
    }
    for (const k of [...this.streak.keys()]) if (!seen.has(k)) this.streak.delete(k);
    for (const k of [...this.reported]) if (!seen.has(k)) this.reported.delete(k);
    return out;
  }
}

/** The log line of a decision (and of its outcome). */
export function describeNumaDecision(d: NumaDecision, outcome?: { error?: string }): string {
  const pct = `${Math.round(d.remoteRatio * 100)}%`;
  const mib = `${Math.round(d.remoteBytes / 1048576)} MiB`;
  const home = `${d.bound ? 'the host node(s) its spec binds it to' : 'the node holding most of it'}, ${d.to.join(',')}`;
  const base = `VM ${d.vm}: ${pct} of its resident guest RAM (${mib}) is on host node(s) ${d.from.join(',')}, not on ${home}`;
  if (d.action === 'report') return `${base}: reported only (numaBalancing: report)`;
  if (outcome?.error !== undefined) return `${base}: moving its pages to node(s) ${d.to.join(',')} failed: ${outcome.error}`;
  return `${base}: moved its pages from node(s) ${d.from.join(',')} to ${d.to.join(',')} (migratepages)`;
}
