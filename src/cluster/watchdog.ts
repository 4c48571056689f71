/**
 * The fencing watchdog: a process of its own beside each host agent (like
 * Proxmox's watchdog-mux), so it works when the agent is hung or dead. The
 * agent tells it, after every lease renewal, until when the lease is surely
 * alive (`alive <ms since epoch>` lines on its stdin). When that moment
 * passes without a newer one — the agent stopped, hung, or lost the store —
 * the watchdog kills every HA VM of the host (SIGKILL, checked gone) before
 * the cluster may restart them elsewhere. The HA manager waits for the lease
 * to expire in the store (never earlier than this moment) plus a margin for
 * this kill, so an HA VM never runs on two hosts.
 *
 * Pure decision in `FenceClock`; the process in `Watchdog`.
 */
import { readFileSync } from 'node:fs';
import { pidAlive, signalPid, sleep } from '../shared/index.js';
import { processStartTicks, type FenceTarget, type FenceTargets } from './fence-targets.js';

/** How often the watchdog looks at its clock; the HA manager's margin must exceed it plus a kill. */
export const WATCHDOG_TICK_MS = 250;
/** What the HA manager waits after a lease expired before restarting its HA VMs elsewhere. */
export const FENCE_MARGIN_MS = 3_000;

export type FenceVerdict = 'armed' | 'disarmed' | 'fence';

/** The watchdog's clock: disarmed until the first `alive`, then fences once `aliveUntil` has passed. */
export class FenceClock {
  private aliveUntil: number | undefined;

  /** Takes an `alive <epoch ms>` line; unknown lines are ignored (false). */
  feed(line: string): boolean {
    const m = /^alive (\d{10,16})$/.exec(line.trim());
    if (!m) return false;
    const t = Number(m[1]);
    // Never move backwards: a late line from an old renewal must not shorten the lease.
    this.aliveUntil = this.aliveUntil === undefined ? t : Math.max(this.aliveUntil, t);
    return true;
  }

  /** Disarms (the agent left the cluster on purpose: `leave`). */
  disarm(): void {
    this.aliveUntil = undefined;
  }

  verdict(now: number): FenceVerdict {
    if (this.aliveUntil === undefined) return 'disarmed';
    return now >= this.aliveUntil ? 'fence' : 'armed';
  }

  get until(): number | undefined {
    return this.aliveUntil;
  }
}

export interface FenceReport {
  at: string;
  killed: FenceTarget[];
  /** Targets whose PID was gone or reused by another process. */
  skipped: FenceTarget[];
}

/** Kills the targets (SIGKILL) and waits until each is gone (bounded). */
export async function fence(targets: FenceTargets, waitMs = 2_000): Promise<FenceReport> {
  const killed: FenceTarget[] = [];
  const skipped: FenceTarget[] = [];
  for (const t of await targets.list()) {
    if ((await processStartTicks(t.pid)) !== t.startTicks) {
      skipped.push(t);
      continue;
    }
    signalPid(t.pid, 'SIGKILL');
    killed.push(t);
  }
  const until = Date.now() + waitMs;
  while (killed.some((t) => pidAlive(t.pid) && !isZombie(t.pid)) && Date.now() < until) await sleep(20);
  if (killed.length > 0) await targets.recordFence(killed.map((t) => t.vm));
  for (const t of killed) await targets.remove(t.vm);
  return { at: new Date().toISOString(), killed, skipped };
}

function isZombie(pid: number): boolean {
  try {
    // A killed child of someone else lingers as a zombie until reaped: it no longer runs.
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

export interface WatchdogOptions {
  /** The agent's lines: `alive <epoch ms>` after each renewal, `leave` when it leaves the cluster on purpose. */
  lines: AsyncIterable<string>;
  targets: FenceTargets;
  log: (msg: string) => void;
  tickMs?: number;
  now?: () => number;
}

/**
 * Runs until it fences (returns what it killed) or the agent says `leave`
 * (returns undefined). The end of the lines (the agent died) does not stop it:
 * the lease will expire, so it fences when the last `alive` runs out.
 */
export async function runWatchdog(o: WatchdogOptions): Promise<FenceReport | undefined> {
  const clock = new FenceClock();
  const now = o.now ?? Date.now;
  let left = false;
  let ended = false;
  const reading = (async () => {
    for await (const line of o.lines) {
      if (line.trim() === 'leave') {
        clock.disarm();
        left = true;
        return;
      }
      clock.feed(line);
    }
    ended = true;
  })();
  reading.catch(() => { ended = true; });
  let saidEnded = false;
  for (;;) {
    if (left) {
      o.log('the agent left the cluster: disarmed');
      return undefined;
    }
    if (ended && !saidEnded) {
      saidEnded = true;
      o.log(clock.until === undefined ? 'the agent went away before any renewal: nothing to guard' : `the agent went away: fencing at ${new Date(clock.until).toISOString()} unless it comes back`);
      if (clock.until === undefined) return undefined;
    }
    if (clock.verdict(now()) === 'fence') {
      const report = await fence(o.targets);
      o.log(`fenced: lease not renewed since ${new Date(clock.until!).toISOString()}; killed ${report.killed.map((t) => `${t.vm} (pid ${t.pid})`).join(', ') || 'nothing'}${report.skipped.length ? `; skipped ${report.skipped.map((t) => t.vm).join(', ')} (already gone)` : ''}`);
      return report;
    }
    await sleep(o.tickMs ?? WATCHDOG_TICK_MS);
  }
}
