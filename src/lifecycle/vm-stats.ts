/**
 * Samples every VM of this host for metrics and `top`: its record, and the
 * live counters of those with a QEMU. Each VM gets its own deadline, so one
 * hung monitor costs the scrape at most `perVmTimeoutMs`, never the rest.
 */
import { canReportStats, type VmStats } from '../drivers/index.js';
import { timeoutSignal } from '../shared/index.js';
import type { VmState } from '../spec/index.js';
import type { VmService } from './vm-service.js';

export interface VmSample {
  name: string;
  id: string;
  state: VmState;
  vcpus: number;
  memoryBytes: number;
  labels: Record<string, string>;
  stats: VmStats | null;
  /** Why stats is null for a VM with a process ('timeout' or the error message). */
  statsError: string | null;
}

export async function sampleVms(vms: VmService, o: { perVmTimeoutMs?: number; signal?: AbortSignal } = {}): Promise<VmSample[]> {
  const timeoutMs = o.perVmTimeoutMs ?? 2_000;
  const recs = await vms.list();
  return Promise.all(recs.map(async (rec): Promise<VmSample> => {
    const base = {
      name: rec.name, id: rec.id, state: rec.state, vcpus: rec.spec.cpu.count, memoryBytes: rec.spec.memory, labels: rec.spec.labels,
    };
    const inst = vms.liveInstance(rec.name);
    if (!inst || !canReportStats(inst)) return { ...base, stats: null, statsError: null };
    try {
      return { ...base, stats: await withDeadline(inst.stats(timeoutSignal(timeoutMs, o.signal)), timeoutMs), statsError: null };
    } catch (err) {
      return { ...base, stats: null, statsError: (err as Error).message || 'failed' };
    }
  }));
}

/** Rejects after `ms` even if `p` ignores its signal. */
function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error('timeout')), ms + 100); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
