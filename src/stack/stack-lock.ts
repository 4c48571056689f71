/**
 * The one-apply-at-a-time lock of a stack, held in the store (the MetaStore
 * every backend has, SQLite and etcd alike), so two daemons on one store —
 * a cluster — refuse each other's second apply too.
 *
 * MetaStore offers get, set and an atomic create-if-absent (initMeta), no
 * compare-and-set or delete; so the lock is a chain of slots
 * `stack.lock.NAME.G`, G = 0, 1, 2 …: taking the lock is creating the next
 * slot with initMeta (only one daemon can), and only the slot's holder ever
 * writes it again (to renew it, then to mark it released). A later slot
 * existing means the earlier one is over. `stack.lock.NAME` is a hint of the
 * newest slot; readers go forward from it while slots exist.
 *
 * A holder renews its slot every ttl/3. The slot is free once released, once
 * its expiry passed (a daemon killed, or cut off from the store, for longer
 * than ttl), or at once when its holder ran on this host under a PID that no
 * longer lives (a daemon killed and started again need not wait). A holder
 * that finds a later slot (its lock was taken over after it stalled) aborts
 * `lost`, which ends its run.
 */
import os from 'node:os';
import { fail, newUuid, type Logger } from '../shared/index.js';
import type { MetaStore } from '../store/index.js';

export interface LockHolder {
  id: string;
  host: string;
  pid: number;
  /** What it is doing: apply, down, destroy. */
  what: string;
  since: string;
  expiresAt: string;
  released?: boolean;
}

export interface HeldLock {
  holder: LockHolder;
  /** Aborts when another daemon took the lock over (this one stalled past its expiry). */
  lost: AbortSignal;
  /** Renews now (the timer does it every ttl/3). */
  renew(): Promise<void>;
  release(): Promise<void>;
}

export interface StackLockOptions {
  ttlMs?: number;
  now?: () => number;
  host?: string;
  pid?: number;
  /** Whether a process of this host with that PID lives. */
  alive?: (pid: number) => boolean;
  logger?: Logger;
}

/** Default: a holder that stopped renewing is taken over after a minute. */
export const STACK_LOCK_TTL_MS = 60_000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const hintKey = (stack: string): string => `stack.lock.${stack}`;
const slotKey = (stack: string, g: number): string => `stack.lock.${stack}.${g}`;

/** "the daemon on HOST (pid N), apply since T" — how an error names the holder. */
export function describeHolder(h: LockHolder): string {
  return `the daemon on ${h.host} (pid ${h.pid}), ${h.what} since ${h.since}`;
}

/** STACK_BUSY naming the holder. */
export function refuseBusy(stack: string, h: LockHolder): never {
  fail('STACK_BUSY', `stack ${stack} is locked by ${describeHolder(h)} (the lock expires ${h.expiresAt} unless renewed)`, { details: { stack, holder: h } });
}

export class StackLocks {
  private readonly ttl: number;
  private readonly now: () => number;
  private readonly host: string;
  private readonly pid: number;
  private readonly alive: (pid: number) => boolean;

  constructor(private readonly meta: MetaStore, private readonly o: StackLockOptions = {}) {
    this.ttl = o.ttlMs ?? STACK_LOCK_TTL_MS;
    this.now = o.now ?? Date.now;
    this.host = o.host ?? os.hostname();
    this.pid = o.pid ?? process.pid;
    this.alive = o.alive ?? pidAlive;
  }

  /** Who holds the lock of `stack` now, or undefined when it is free. */
  async holder(stack: string): Promise<LockHolder | undefined> {
    const { cur } = await this.head(stack);
    return cur && !this.free(cur) ? cur : undefined;
  }

  /** Takes the lock of `stack` for `what`, or fails with STACK_BUSY naming its holder. */
  async acquire(stack: string, what: string): Promise<HeldLock> {
    let { g, cur } = await this.head(stack);
    for (;;) {
      if (cur && !this.free(cur)) {
        refuseBusy(stack, cur);
      }
      const next = cur ? g + 1 : g;
      const mine: LockHolder = {
        id: newUuid(), host: this.host, pid: this.pid, what,
        since: new Date(this.now()).toISOString(), expiresAt: new Date(this.now() + this.ttl).toISOString(),
      };
      const text = JSON.stringify(mine);
      const stored = await this.meta.initMeta(slotKey(stack, next), text);
      if (stored === text) {
        await this.meta.setMeta(hintKey(stack), String(next));
        if (cur && !cur.released) this.o.logger?.warn({ stack, previous: cur }, 'stack lock taken over from a holder that is gone');
        return this.held(stack, next, mine);
      }
      // Another daemon made that slot first: judge it as the current one.
      g = next;
      cur = JSON.parse(stored) as LockHolder;
    }
  }

  private held(stack: string, g: number, mine: LockHolder): HeldLock {
    const lost = new AbortController();
    let h = mine;
    let done = false;
    const renew = async (): Promise<void> => {
      if (done) return;
      if ((await this.meta.getMeta(slotKey(stack, g + 1))) !== undefined) {
        lost.abort(new Error(`the lock of stack ${stack} was taken over by another daemon`));
        return;
      }
      h = { ...h, expiresAt: new Date(this.now() + this.ttl).toISOString() };
      if (!done) await this.meta.setMeta(slotKey(stack, g), JSON.stringify(h));
    };
    const timer = setInterval(() => {
      renew().catch((err: unknown) => this.o.logger?.warn({ stack, err: (err as Error).message }, 'stack lock not renewed'));
    }, Math.max(1_000, Math.floor(this.ttl / 3)));
    timer.unref();
    return {
      holder: mine,
      lost: lost.signal,
      renew,
      release: async () => {
        done = true;
        clearInterval(timer);
        if (!lost.signal.aborted) await this.meta.setMeta(slotKey(stack, g), JSON.stringify({ ...h, released: true }));
      },
    };
  }

  /** The newest slot and its holder (undefined: the stack was never locked). */
  private async head(stack: string): Promise<{ g: number; cur: LockHolder | undefined }> {
    let g = Number(await this.meta.getMeta(hintKey(stack)) ?? '0') || 0;
    let raw = await this.meta.getMeta(slotKey(stack, g));
    if (raw === undefined) return { g: 0, cur: undefined };
    for (;;) {
      const next = await this.meta.getMeta(slotKey(stack, g + 1));
      if (next === undefined) break;
      g += 1;
      raw = next;
    }
    return { g, cur: JSON.parse(raw) as LockHolder };
  }

  private free(h: LockHolder): boolean {
    if (h.released) return true;
    if (Date.parse(h.expiresAt) < this.now()) return true;
    return h.host === this.host && h.pid !== this.pid && !this.alive(h.pid);
  }
}
