/** Reading the test guest's memtest heartbeat (`MEMTEST hb=… bad=…`) from the serial log. */
import type { PolyvisorClient } from '../../src/client/index.js';
import { limit } from './limits.js';

export interface Heartbeat {
  hb: number;
  sweeps: number;
  writtenMb: number;
  bad: number;
  rateMbps: number;
}

const HB = /^MEMTEST hb=(\d+) sweeps=(\d+) written_mb=(\d+) bad=(\d+) rate_mbps=(\d+)/;

export function heartbeats(log: string): Heartbeat[] {
  const out: Heartbeat[] = [];
  for (const line of log.split(/\r?\n/)) {
    const m = HB.exec(line.trim());
    if (m) out.push({ hb: +m[1]!, sweeps: +m[2]!, writtenMb: +m[3]!, bad: +m[4]!, rateMbps: +m[5]! });
  }
  return out;
}

export function badLines(log: string): string[] {
  return log.split(/\r?\n/).filter((l) => l.includes('MEMTEST BAD'));
}

/** Waits until a heartbeat with hb > `after` exists; returns all heartbeats. */
export async function waitHeartbeat(client: PolyvisorClient, name: string, after: number, timeoutMs = limit('heartbeat', 2)): Promise<Heartbeat[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = await client.serialLog(name, 4 * 1024 * 1024);
    const hbs = heartbeats(log);
    if (hbs.length && hbs[hbs.length - 1]!.hb > after) return hbs;
    if (Date.now() > deadline) throw new Error(`${name}: no memtest heartbeat after hb=${after} within ${timeoutMs} ms; log tail:\n${log.slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The guest survived intact: its heartbeat goes on at least `beats` more times
 * after `lastHb`, and memtest reports no bad page, ever.
 */
export async function expectIntact(client: PolyvisorClient, name: string, lastHb: number, beats = 3): Promise<Heartbeat[]> {
  const hbs = await waitHeartbeat(client, name, lastHb + beats, limit('heartbeat', 1 + beats / 6));
  const log = await client.serialLog(name, 4 * 1024 * 1024);
  const bad = badLines(log);
  const worst = Math.max(...hbs.map((h) => h.bad));
  if (bad.length || worst !== 0) throw new Error(`${name}: memtest found corruption (bad=${worst}):\n${bad.slice(0, 10).join('\n')}`);
  return hbs;
}

export function lastHb(log: string): number {
  const hbs = heartbeats(log);
  return hbs.length ? hbs[hbs.length - 1]!.hb : 0;
}
