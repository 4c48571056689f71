/**
 * A lease held in the cluster store and kept alive: renewed every third of
 * its TTL; lost when the store says it is gone or when a whole TTL passes
 * (measured from the last renewal's request) without a renewal — after that
 * the store may already have expired it, so the holder must act as if it had.
 */
import { anySignal, sleep } from '../shared/index.js';
import type { ClusterKv, Lease } from '../store/index.js';

export interface LeaseKeeperOptions {
  kv: ClusterKv;
  ttlSeconds: number;
  /** Called once when the lease is lost (expired, revoked, or not renewed in time). */
  onLost?: (why: string) => void;
  /** Called after the grant and every renewal with the moment (ms since epoch) until which the lease is surely alive: what the fencing watchdog is told. */
  onRenewed?: (aliveUntil: number) => void;
}

export class LeaseKeeper {
  private lease: Lease | undefined;
  /** Until when (ms since epoch) the lease is surely alive: the last renewal's send time + TTL. */
  private aliveUntil = 0;
  private readonly ctl = new AbortController();
  private loop: Promise<void> | undefined;
  private lostWhy: string | undefined;

  constructor(private readonly opts: LeaseKeeperOptions) {}

  get id(): string {
    if (!this.lease) throw new Error('lease: not granted yet');
    return this.lease.id;
  }

  get ttlSeconds(): number {
    return this.opts.ttlSeconds;
  }

  /** True while the lease is surely alive in the store. */
  get alive(): boolean {
    return this.lostWhy === undefined && Date.now() < this.aliveUntil;
  }

  get lost(): string | undefined {
    return this.lostWhy;
  }

  async grant(signal?: AbortSignal): Promise<string> {
    const sent = Date.now();
    this.lease = await this.opts.kv.grantLease(this.opts.ttlSeconds, { signal });
    this.aliveUntil = sent + this.lease.ttlSeconds * 1000;
    this.opts.onRenewed?.(this.aliveUntil);
    this.loop = this.keepAlive();
    return this.lease.id;
  }

  /**
   * After a loss (the store was out of reach for a whole TTL, or expired the
   * lease): a new lease, renewed as before. The old one is gone or going; what
   * was put under it must be put again under the new one.
   */
  async regrant(signal?: AbortSignal): Promise<string> {
    if (this.lostWhy === undefined) throw new Error('lease: regrant of a lease that is not lost');
    if (this.ctl.signal.aborted) throw new Error('lease: stopped');
    await this.loop; // it returned when the loss was noted
    const sent = Date.now();
    const lease = await this.opts.kv.grantLease(this.opts.ttlSeconds, { signal });
    this.lease = lease;
    this.lostWhy = undefined;
    this.aliveUntil = sent + lease.ttlSeconds * 1000;
    this.opts.onRenewed?.(this.aliveUntil);
    this.loop = this.keepAlive();
    return lease.id;
  }

  /** Stops renewing without revoking: the store expires the lease after its TTL (what a crashed holder does). */
  async stop(): Promise<void> {
    this.ctl.abort();
    await this.loop;
  }

  /** Stops renewing and revokes the lease now: every key under it goes at once. */
  async revoke(): Promise<void> {
    await this.stop();
    if (this.lease) await this.opts.kv.revokeLease(this.lease.id);
    this.markLost('revoked');
  }

  /**
   * Gives the lease up as lost though the store may still renew it: the host's fencing watchdog exited (it fenced
   * when a renewal came back only after the TTL had run out), so the host is unguarded and its HA VMs were killed.
   * Renewal stops, `onLost` fires, and `regrant` takes a new lease, as after any loss.
   */
  abandon(why: string): void {
    this.markLost(why);
  }

  private markLost(why: string): void {
    if (this.lostWhy !== undefined) return;
    this.lostWhy = why;
    this.aliveUntil = 0;
    this.opts.onLost?.(why);
  }

  private async keepAlive(): Promise<void> {
    const every = Math.floor((this.opts.ttlSeconds * 1000) / 3); // an integer: AbortSignal.timeout refuses 3333.33 (a 10 s TTL), which made every renewal fail
    const signal = this.ctl.signal;
    while (!signal.aborted) {
      try {
        await sleep(Math.max(50, Math.min(every, this.aliveUntil - Date.now() - every)), signal);
      } catch {
        return;
      }
      if (this.lostWhy !== undefined) return; // abandoned meanwhile
      const sent = Date.now();
      try {
        const ttl = await this.opts.kv.keepAliveOnce(this.lease!.id, { signal: anySignal([signal, AbortSignal.timeout(every)]) });
        if (this.lostWhy !== undefined) return;
        if (ttl <= 0) return this.markLost('the store expired the lease');
        this.aliveUntil = sent + ttl * 1000;
        this.opts.onRenewed?.(this.aliveUntil);
      } catch {
        if (signal.aborted || this.lostWhy !== undefined) return;
        if (Date.now() >= this.aliveUntil) return this.markLost(`not renewed within its TTL of ${this.opts.ttlSeconds} s`);
        // The store did not answer this time: try again sooner, before the TTL runs out.
      }
    }
  }
}
