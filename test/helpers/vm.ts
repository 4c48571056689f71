import type { PolyvisorClient } from '../../src/client/index.js';
import type { VmSpecInput } from '../../src/spec/index.js';
import { testGuest } from './guest.js';
import { limit } from './limits.js';

/** A direct-kernel spec of the test guest. */
export function guestSpec(name: string, extra: Partial<VmSpecInput> = {}, cmdlineExtra = ''): VmSpecInput {
  const g = testGuest();
  return {
    name,
    memory: '128Mi',
    boot: { kernel: g.kernel, initrd: g.initrd, cmdline: `${g.cmdline} pv.name=${name} ${cmdlineExtra}`.trim() },
    ...extra,
  };
}

/** Counts the occurrences of `text` as whole lines (or, with `prefix`, as the start of lines) in the serial log. */
export function countLines(log: string, text: string, prefix = false): number {
  return log.split(/\r?\n/).filter((l) => (prefix ? l.trim().startsWith(text) : l.trim() === text)).length;
}

/** Waits until the serial log holds `text` as a line at least `count` times. */
export async function waitForLine(client: PolyvisorClient, name: string, text: string, opts: { count?: number; timeoutMs?: number; prefix?: boolean } = {}): Promise<string> {
  const deadline = Date.now() + (opts.timeoutMs ?? limit('boot'));
  const want = opts.count ?? 1;
  for (;;) {
    const log = await client.serialLog(name, 1024 * 1024);
    if (countLines(log, text, opts.prefix) >= want) return log;
    if (Date.now() > deadline) throw new Error(`${name}: "${text}" seen ${countLines(log, text, opts.prefix)}/${want} times in ${opts.timeoutMs ?? limit('boot')} ms; serial log tail:\n${log.slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function waitForState(client: PolyvisorClient, name: string, state: string, timeoutMs = limit('state')): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await client.getVm(name);
    if (v.state === state) return;
    if (Date.now() > deadline) throw new Error(`${name} is ${v.state} (${v.stateReason}), wanted ${state} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const READY = 'POLYVISOR-GUEST-READY';
