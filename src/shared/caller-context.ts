import { AsyncLocalStorage } from 'node:async_hooks';
import type { Role } from './roles.js';

/**
 * Who asked for the work now running: the API sets it for each authenticated
 * request, and it follows the request into the operations it starts (an
 * AsyncLocalStorage, like the log context). Services that must weigh the
 * caller (role quotas, VM owners) read it; work the daemon does on its own
 * (HA, reconcile, incoming moves) runs without one.
 */
export interface Caller {
  /** Token name, or "local" for the unix socket. */
  actor: string;
  role: Role;
}

const storage = new AsyncLocalStorage<Caller>();

export function withCaller<T>(caller: Caller, fn: () => T): T {
  return storage.run({ actor: caller.actor, role: caller.role }, fn);
}

/** The caller in effect here; undefined outside any request. */
export function currentCaller(): Caller | undefined {
  return storage.getStore();
}
