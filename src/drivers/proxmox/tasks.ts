/**
 * Following a Proxmox worker task by its UPID: its status is polled (gently
 * slower as it runs) until it stops; its log is read as it grows and the last
 * progress it states ("(42.00%)", "transferred 1.0 GiB of 4.0 GiB") is
 * passed on. exitstatus "OK" (or "WARNINGS: n") is success; any other text is
 * the failure, mapped to the catalogue with Proxmox's words. A task not done
 * within the timeout, or a caller who gives up, leaves it running on
 * Proxmox, except migrations and clones, which are stopped (qemu-server
 * cleans up after both).
 */
import { abortError, anySignal, PolyvisorError, sleep } from '../../shared/index.js';
import type { Progress } from '../endpoint.js';
import type { PveClient } from './client.js';
import { pveFailure } from './errors.js';

export interface FollowOptions {
  timeoutMs: number;
  onProgress?: Progress;
  /** First poll delay; grows to 1 s. */
  pollMs?: number;
}

interface UpidParts {
  node: string;
  type: string;
  id: string;
}

/** UPID:node:pid:pstart:starttime:type:id:user: */
export function parseUpid(upid: unknown): UpidParts & { upid: string } {
  const m = typeof upid === 'string' ? /^UPID:([^:]+):[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:([^:]+):([^:]*):[^:]+:/.exec(upid) : null;
  if (!m) throw new PolyvisorError('ENDPOINT_PROTOCOL', `Proxmox answered ${JSON.stringify(upid)} where a task id (UPID) was expected`);
  return { upid: upid as string, node: m[1]!, type: m[2]!, id: m[3]! };
}

const UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** The fraction a task log line states, if any. */
export function progressOf(line: string): number | undefined {
  const pct = /\((\d+(?:\.\d+)?)%\)/.exec(line);
  if (pct) return Math.min(1, Number(pct[1]) / 100);
  const of = /transferred (\d+(?:\.\d+)?) ([KMGT]?i?B) of (\d+(?:\.\d+)?) ([KMGT]?i?B)/.exec(line);
  if (of && UNITS[of[2]!] && UNITS[of[4]!]) {
    const total = Number(of[3]) * UNITS[of[4]!]!;
    if (total > 0) return Math.min(1, (Number(of[1]) * UNITS[of[2]!]!) / total);
  }
  return undefined;
}

const STOPPABLE = new Set(['qmigrate', 'qmclone']);

async function stopTask(c: PveClient, t: UpidParts & { upid: string }): Promise<void> {
  if (!STOPPABLE.has(t.type)) return;
  await c.del(`/nodes/${encodeURIComponent(t.node)}/tasks/${encodeURIComponent(t.upid)}`, {}, AbortSignal.timeout(10_000), true).catch(() => undefined);
}

/** Resolves when the task ends well; throws its failure otherwise. */
export async function followTask(c: PveClient, upid: unknown, what: string, signal: AbortSignal, o: FollowOptions): Promise<void> {
  const t = parseUpid(upid);
  const base = `/nodes/${encodeURIComponent(t.node)}/tasks/${encodeURIComponent(t.upid)}`;
  const deadline = AbortSignal.timeout(o.timeoutMs);
  const sig = anySignal([signal, deadline]);
  let wait = o.pollMs ?? 100;
  let lines = 0;
  let last = -1;
  try {
    for (;;) {
      const st = (await c.get(`${base}/status`, {}, sig, true)) as { status?: unknown; exitstatus?: unknown } | null;
      if (o.onProgress) {
        const log = (await c.get(`${base}/log`, { start: lines, limit: 500 }, sig, true)) as { n?: number; t?: string }[] | null;
        for (const l of Array.isArray(log) ? log : []) {
          lines = Math.max(lines, l.n ?? lines);
          const f = typeof l.t === 'string' ? progressOf(l.t) : undefined;
          if (f !== undefined && f > last) {
            last = f;
            o.onProgress(f, l.t);
          }
        }
      }
      if (st?.status === 'stopped') {
        const exit = typeof st.exitstatus === 'string' ? st.exitstatus : 'unknown';
        if (exit === 'OK' || /^WARNINGS: \d+$/.test(exit)) {
          if (o.onProgress && last < 1) o.onProgress(1);
          return;
        }
        throw pveFailure(exit, `Proxmox task ${t.type} (${what}) on node ${t.node} failed: ${exit}`, 'ENDPOINT_TASK_FAILED', { upid: t.upid });
      }
      if (st?.status !== 'running') throw new PolyvisorError('ENDPOINT_PROTOCOL', `Proxmox task ${t.upid} has status ${JSON.stringify(st?.status)}`);
      await sleep(wait, sig);
      wait = Math.min(1000, Math.round(wait * 1.5));
    }
  } catch (err) {
    if (sig.aborted) {
      await stopTask(c, t);
      if (deadline.aborted && !signal.aborted) {
        throw new PolyvisorError('TIMEOUT', `Proxmox task ${t.type} (${what}) on node ${t.node} did not finish within ${Math.round(o.timeoutMs / 1000)} s${STOPPABLE.has(t.type) ? '; it was stopped' : '; it goes on in Proxmox'} (task ${t.upid})`, { cause: err });
      }
      throw abortError(signal, `${what} on Proxmox (task ${t.upid})`);
    }
    throw err;
  }
}
