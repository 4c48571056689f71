/**
 * The migration policy: turns what the caller asked (MigrateOptions) and what
 * we know of the link and the VM into QEMU tuning, a post-copy plan and one
 * sentence per choice explaining it. PURE.
 */
import type { MigrationProgress, MigrationTuning } from '../drivers/index.js';
import type { MigrateOptions, PostcopyMode } from './options.js';

export const DEFAULT_DOWNTIME_MS = 50;
/** With the default limit, pre-copy that has not converged may have its limit doubled per pass up to this. */
export const ADAPTIVE_DOWNTIME_CEILING_MS = 200;
/** …starting after this many passes. */
export const ADAPTIVE_DOWNTIME_AFTER_PASSES = 3;
/** Auto post-copy: switch once pre-copy has made this many passes without converging… */
export const AUTO_POSTCOPY_ITERATIONS = 5;
/** …or after this long in pre-copy. */
export const AUTO_POSTCOPY_AFTER_MS = 10_000;

export interface PolicyContext {
  /** 'unix': both ends on this host; 'tcp': over the network. */
  transport: 'unix' | 'tcp';
  memoryBytes: number;
}

export interface MigrationPlan {
  tuning: MigrationTuning;
  /** Highest downtime limit the policy may raise to when pre-copy does not converge (= the limit when fixed). */
  downtimeCeilingMs: number;
  postcopy: PostcopyMode;
  timeoutMs: number;
  explanation: string;
}

export function choosePolicy(o: MigrateOptions, ctx: PolicyContext): MigrationPlan {
  const why: string[] = [];
  const downtimeLimitMs = o.downtimeMs ?? DEFAULT_DOWNTIME_MS;
  why.push(o.downtimeMs !== undefined
    ? `downtime limit ${downtimeLimitMs} ms as asked`
    : `downtime limit ${downtimeLimitMs} ms (QEMU's default is 300 ms; an idle or lightly writing guest stops for well under that), doubled per pass up to ${ADAPTIVE_DOWNTIME_CEILING_MS} ms if pre-copy has not converged after ${ADAPTIVE_DOWNTIME_AFTER_PASSES} passes`);

  let maxBandwidthBytesPerS: number | undefined;
  if (o.bandwidthMiBps) {
    maxBandwidthBytesPerS = o.bandwidthMiBps * 1024 ** 2;
    why.push(`bandwidth capped at ${o.bandwidthMiBps} MiB/s as asked`);
  } else {
    why.push(ctx.transport === 'unix'
      ? 'bandwidth unlimited: both ends are on this host, so the copy costs no network (QEMU would cap it at 128 MiB/s)'
      : 'bandwidth unlimited: cap it (--bandwidth MiBps; API bandwidthMiBps) to leave room for other traffic on the link');
  }

  const postcopy: PostcopyMode = o.postcopy ?? 'off';
  if (postcopy === 'off') {
    why.push(o.postcopy === undefined
      ? 'post-copy off: after its switch-over a failure of the target or the link would lose the VM, and pre-copy converges on its own here'
      : 'post-copy off as asked');
  } else {
    const when = {
      manual: 'switch only when asked (vm migrate-postcopy)',
      'after-precopy': 'switch once the first pass over RAM is done',
      auto: `switch automatically if pre-copy has not converged after ${AUTO_POSTCOPY_ITERATIONS} passes or ${AUTO_POSTCOPY_AFTER_MS / 1000} s`,
    }[postcopy];
    why.push(`post-copy enabled: ${when}; downtime is then one page fetch, but a target failure after the switch loses the VM`);
  }

  // auto-converge only throttles when the guest dirties memory faster than about half the stream rate, so it costs nothing otherwise.
  const autoConverge = o.autoConverge ?? postcopy === 'off';
  if (o.autoConverge !== undefined) why.push(`auto-converge ${autoConverge ? 'on' : 'off'} as asked`);
  else if (autoConverge) why.push('auto-converge on: it throttles the vCPUs only if the guest dirties memory faster than the stream can send it, the convergence aid when post-copy is off');
  else why.push('auto-converge off: post-copy is the convergence aid, and it does not slow the guest');

  const multifdChannels = o.multifd ?? 1;
  if (multifdChannels > 1) why.push(`multifd with ${multifdChannels} channels as asked`);
  else if (o.multifd === undefined) {
    why.push(ctx.transport === 'unix'
      ? 'one stream (no multifd): one unix-socket stream already moves several Gbit/s here, and extra sender threads compete with the vCPUs'
      : 'one TCP stream (no multifd): ask for --multifd N if one stream cannot fill the link; extra sender threads compete with the vCPUs');
  }

  const xbzrleCacheBytes = o.xbzrle ? xbzrleCache(ctx.memoryBytes) : 0;
  if (o.xbzrle) why.push(`XBZRLE on with a ${Math.round(xbzrleCacheBytes / 1024 ** 2)} MiB cache as asked`);

  return {
    tuning: { downtimeLimitMs, ...(maxBandwidthBytesPerS ? { maxBandwidthBytesPerS } : {}), autoConverge, postcopy: postcopy !== 'off', multifdChannels, xbzrleCacheBytes },
    downtimeCeilingMs: o.downtimeMs ?? ADAPTIVE_DOWNTIME_CEILING_MS,
    postcopy,
    timeoutMs: (o.timeoutSeconds ?? 600) * 1000,
    explanation: `${why.join('; ')}.`,
  };
}

/** XBZRLE cache: a quarter of RAM, between 16 and 512 MiB, a power of two as QEMU wants. */
function xbzrleCache(memoryBytes: number): number {
  const want = Math.min(512 * 1024 ** 2, Math.max(16 * 1024 ** 2, memoryBytes / 4));
  return 2 ** Math.floor(Math.log2(want));
}

/** Whether to switch to post-copy now, for the 'after-precopy' and 'auto' modes (manual requests come from outside). */
export function shouldSwitchToPostcopy(mode: PostcopyMode, p: MigrationProgress): boolean {
  if (p.status !== 'active') return false;
  if (mode === 'after-precopy') return p.iteration >= 2;
  if (mode === 'auto') return p.iteration > AUTO_POSTCOPY_ITERATIONS || p.elapsedMs > AUTO_POSTCOPY_AFTER_MS;
  return false;
}

/**
 * Adaptive downtime: a writer that outruns the default 50 ms limit gets a
 * higher limit (doubling per pass, up to the ceiling) before auto-converge
 * has to slow it down much. Returns the new limit, or undefined to keep it.
 */
export function nextDowntimeLimit(plan: MigrationPlan, p: MigrationProgress, currentMs: number): number | undefined {
  if (p.status !== 'active' || currentMs >= plan.downtimeCeilingMs) return undefined;
  const passesOver = p.iteration - ADAPTIVE_DOWNTIME_AFTER_PASSES;
  if (passesOver < 1) return undefined;
  const want = Math.min(plan.downtimeCeilingMs, plan.tuning.downtimeLimitMs * 2 ** passesOver);
  return want > currentMs ? want : undefined;
}
