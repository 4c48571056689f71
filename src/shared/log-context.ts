import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Ids carried through every log line written while a request or an operation
 * runs, however deep the call goes (API → lifecycle → driver → QMP). The
 * daemon's logger reads them in a pino mixin; nothing has to pass them along.
 */
export interface LogContext {
  requestId?: string;
  operationId?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `fn` with `add` merged over the ids already in effect. */
export function withLogContext<T>(add: LogContext, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...add }, fn);
}

/** The ids in effect here (an empty object outside any request or operation). */
export function currentLogContext(): LogContext {
  return storage.getStore() ?? {};
}
