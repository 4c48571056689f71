import { PolyvisorError } from './errors.js';

/** A signal that aborts after `ms`, or when `parent` aborts, whichever first. */
/** What each combined signal was made from, held strongly for as long as the combined signal lives. */
const sourcesOf = new WeakMap<AbortSignal, readonly AbortSignal[]>();

/**
 * AbortSignal.any that keeps its sources alive. Node 20's AbortSignal.any holds
 * its sources weakly, and an AbortSignal.timeout that nothing else references
 * can be garbage-collected before it fires: the combined signal then never
 * aborts (seen in CI: a 5 s stop timeout still unfired after 15 minutes, the
 * stop job waiting for a guest that ignored the power button for ever).
 */
export function anySignal(signals: readonly AbortSignal[]): AbortSignal {
  const s = AbortSignal.any([...signals]);
  sourcesOf.set(s, signals);
  return s;
}

export function timeoutSignal(ms: number, parent?: AbortSignal): AbortSignal {
  const t = AbortSignal.timeout(ms);
  return parent ? anySignal([t, parent]) : t;
}

/** Throws the catalogue error matching why `signal` aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortError(signal, what);
}

export function abortError(signal: AbortSignal, what: string): PolyvisorError {
  const reason: unknown = signal.reason;
  if (reason instanceof PolyvisorError) return reason;
  const timedOut = reason instanceof DOMException && reason.name === 'TimeoutError';
  return timedOut
    ? new PolyvisorError('TIMEOUT', `${what} timed out`, { cause: reason })
    : new PolyvisorError('ABORTED', `${what} was cancelled`, { cause: reason });
}

/** Sleeps `ms`, rejecting early with TIMEOUT/ABORTED if `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal, 'wait'));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal!, 'wait'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Polls `check` every `intervalMs` until it returns a value other than
 * undefined, or the signal aborts (then throws TIMEOUT/ABORTED naming `what`).
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  opts: { signal: AbortSignal; intervalMs?: number },
): Promise<T> {
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (opts.signal.aborted) throw abortError(opts.signal, what);
    try {
      await sleep(opts.intervalMs ?? 50, opts.signal);
    } catch {
      throw abortError(opts.signal, what);
    }
  }
}
