/** What `polyvisor schedule explain` shows (GET/POST /v1/schedule/explain; docs/scheduler.md). */
import type { HostResourcesView, HostStateName } from './host-views.js';

export interface ScheduleVerdictView {
  filter: string;
  pass: boolean;
  /** Why the filter refused the host, with the host's numbers (only when pass is false). */
  reason?: string;
}

export interface ScheduleExplainHostView {
  host: string;
  state: HostStateName;
  pool: string;
  priority: number;
  capacity: HostResourcesView;
  /** What the VMs placed there claim (the VM explained does not count). */
  allocated: HostResourcesView;
  passed: boolean;
  /** The first filter that refused the host, and why; null when every filter passed. */
  refusedBy: { filter: string; reason: string } | null;
  /** Every filter's verdict, in the order they run. */
  verdicts: ScheduleVerdictView[];
  /** The weighers' scores of a host that passed: capacity (pack or spread, 0..100), soft (anti-)affinity points, total. */
  score: { capacity: number; affinity: number; total: number } | null;
  chosen: boolean;
}

export interface ScheduleExplainView {
  vm: string;
  /** What the VM claims, and its host pool preference (HA group). */
  request: { cpus: number; memoryBytes: number; diskBytes: number; pool: string | null; restricted: boolean };
  policy: { mode: 'pack' | 'spread'; overcommit: { cpu: number; memory: number; disk: number } };
  /** The host the scheduler picks; null when no host passes every filter. */
  chosen: string | null;
  /** The chosen host first, then the other hosts that passed by rank, then the refused by name. */
  hosts: ScheduleExplainHostView[];
}
