/**
 * Bulk actions (POST /v1/vms/actions): one action over the VMs a label
 * selector (or a list of names) picks, run as one operation whose detail is
 * a BulkReport, updated as each VM finishes.
 */
import type { VmState } from './state.js';

export const BULK_ACTIONS = ['start', 'stop', 'kill', 'pause', 'resume', 'reboot', 'suspend', 'snapshot', 'backup', 'migrate'] as const;
export type BulkActionName = (typeof BULK_ACTIONS)[number];

/** ok, failed (error says why), skipped (reason says why: the VM's state does not allow it, or the bulk was cancelled first), planned (dry run). */
export const BULK_RESULTS = ['ok', 'failed', 'skipped', 'planned', 'pending', 'running'] as const;
export type BulkResultName = (typeof BULK_RESULTS)[number];

export interface BulkVmResult {
  vm: string;
  result: BulkResultName;
  /** The VM's state when the bulk picked it. */
  before: VmState;
  /** Its state once its action finished; null while pending or when the VM left this host (a move to another daemon). */
  after: VmState | null;
  /** Why it failed (catalogue code, message, hint). */
  error: { code: string; message: string; hint: string } | null;
  /** Why it was skipped, or what a dry run would do. */
  reason: string | null;
  /** What the action made: a snapshot's name, a backup's id, a move's target. */
  output: Record<string, unknown> | null;
  /** Wall time of its action (0 unless it ran). */
  ms: number;
}

export interface BulkReport {
  action: BulkActionName;
  /** The label selector as given (key=value,…), or null. */
  selector: string | null;
  /** The names given, or null. */
  names: string[] | null;
  dryRun: boolean;
  concurrency: number;
  /** VMs picked, and how many have finished (ok, failed or skipped): progress is done of total. */
  total: number;
  done: number;
  ok: number;
  failed: number;
  skipped: number;
  /** One entry per VM picked, ordered by name. */
  results: BulkVmResult[];
}
