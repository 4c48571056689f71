import { PolyvisorError } from './errors.js';

/** A signal that aborts after `ms`, or when `parent` aborts, whichever first. */
export function timeoutSignal(ms: number, parent?: AbortSignal): AbortSignal {
  const t = AbortSignal.timeout(ms);
  return parent ? AbortSignal.any([t, parent]) : t;
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
