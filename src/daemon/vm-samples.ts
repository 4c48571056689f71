/**
 * One sampling of this host's VMs (records, and the live counters of those
 * with a QEMU) shared by the history recorder and /metrics (issue 28): the
 * recorder takes a fresh one every history interval, a scrape reuses the
 * newest while it is younger than its limit, so a scrape costs no store
 * listing and no monitor round trip per VM — Incus caches its metrics per
 * scrape interval the same way. A state change or a removal drops the cached
 * sampling at once, so a VM's state is never older than the event that
 * changed it; counters are at most the limit old. Concurrent callers share
 * one sampling in flight.
 */
import { sampleVms, type VmSample, type VmService } from '../lifecycle/index.js';

export class SharedVmSamples {
  private last: { at: number; gen: number; samples: VmSample[] } | null = null;
  private inflight: { gen: number; p: Promise<VmSample[]> } | null = null;
  /** Bumped by every state change and removal: a sampling begun before one is not kept. */
  private gen = 0;
  private readonly onChange = (): void => {
    this.gen++;
    this.last = null;
  };

  constructor(private readonly service: VmService, private readonly o: { perVmTimeoutMs: number; timeoutMs?: number }) {
    service.states.on('state', this.onChange);
    service.states.on('removed', this.onChange);
  }

  /** A sampling taken at most `maxAgeMs` ago (0: a fresh one, or the one in flight begun after the last change). */
  get(maxAgeMs: number): Promise<VmSample[]> {
    // 0 is always fresh, even within the millisecond the last sampling began in.
    if (maxAgeMs > 0 && this.last && this.last.gen === this.gen && Date.now() - this.last.at <= maxAgeMs) return Promise.resolve(this.last.samples);
    if (this.inflight && this.inflight.gen === this.gen) return this.inflight.p;
    const gen = this.gen;
    const at = Date.now();
    const p = sampleVms(this.service, { perVmTimeoutMs: this.o.perVmTimeoutMs, signal: AbortSignal.timeout(this.o.timeoutMs ?? 30_000) })
      .then((samples) => {
        if (gen === this.gen && (!this.last || this.last.at < at)) this.last = { at, gen, samples };
        return samples;
      })
      .finally(() => {
        if (this.inflight?.p === p) this.inflight = null;
      });
    this.inflight = { gen, p };
    return p;
  }

  close(): void {
    this.service.states.off('state', this.onChange);
    this.service.states.off('removed', this.onChange);
  }
}
