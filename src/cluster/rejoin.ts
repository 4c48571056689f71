/**
 * A host that lost its lease comes back (docs/ha.md "Losing the store"). The
 * lease is lost when the store cannot be reached for a whole TTL — the host
 * was cut off, or etcd lost its quorum — or when the store expired it. By
 * then the host's watchdog fences (kills) its HA VMs and exits, as Proxmox's
 * watchdog does when a node loses quorum; its other VMs keep running. Once
 * the store answers again the host must not stay out for good:
 *
 * 1. wait until the old watchdog has exited: it has then fenced, so no HA VM
 *    of this host outlived the lost lease (the HA manager may already be
 *    restarting them elsewhere);
 * 2. start a new watchdog, which the new lease's renewals will arm;
 * 3. take a new lease and publish the host record under it, retrying until
 *    the store answers;
 * 4. recover the fenced HA VMs: each one this host still owns, whose record
 *    says it runs while its QEMU is gone, is restarted here — one
 *    compare-and-set on the record's generation first, so if the HA manager
 *    gave it to another host meanwhile, that host has it and this one leaves
 *    it alone.
 */
import { sleep, type Logger } from '../shared/index.js';

export interface RejoinOptions {
  /** Resolves when the watchdog that guarded the lost lease has exited. */
  watchdogExited: Promise<unknown>;
  /** Starts a new watchdog (it arms at the new lease's first renewal). */
  restartWatchdog(): void;
  /** Takes a new lease and publishes the host record under it. */
  rejoin(signal: AbortSignal): Promise<void>;
  /** Restarts the HA VMs the watchdog fenced; returns their names. */
  recoverFenced(signal: AbortSignal): Promise<string[]>;
  log: Logger;
  signal: AbortSignal;
  /** Between attempts while the store does not answer (default 1 s). */
  retryMs?: number;
}

/** Runs the steps above once; false when `signal` aborted first. */
export async function rejoinAfterLoss(o: RejoinOptions): Promise<boolean> {
  const every = o.retryMs ?? 1_000;
  o.log.warn({}, 'rejoin: waiting for the fencing watchdog to finish');
  await Promise.race([o.watchdogExited, new Promise((r) => o.signal.addEventListener('abort', r, { once: true }))]);
  if (o.signal.aborted) return false;
  o.restartWatchdog();
  for (let attempt = 1; ; attempt++) {
    try {
      await o.rejoin(o.signal);
      break;
    } catch (err) {
      if (o.signal.aborted) return false;
      if (attempt === 1 || attempt % 30 === 0) o.log.warn({ err, attempt }, 'rejoin: the cluster store does not answer yet; trying again');
      await sleep(every, o.signal).catch(() => undefined);
      if (o.signal.aborted) return false;
    }
  }
  o.log.info({}, 'rejoin: this host holds a new lease');
  for (;;) {
    try {
      const restarted = await o.recoverFenced(o.signal);
      o.log.info({ restarted }, 'rejoin: fenced HA VMs restarted here');
      return true;
    } catch (err) {
      if (o.signal.aborted) return false;
      o.log.warn({ err }, 'rejoin: recovering the fenced HA VMs failed; trying again');
      await sleep(every, o.signal).catch(() => undefined);
      if (o.signal.aborted) return false;
    }
  }
}
