/** The shape of a scheduler filter (filters.ts, filters-topology.ts, filters-devices.ts). */
import type { CompiledRequest } from './compiled-request.js';
import type { LiveHost, Whereabouts } from './live-host.js';
import type { Policy } from './types.js';

/** undefined = pass; a string = the reason for rejecting. */
export type FilterFn = (c: CompiledRequest, h: LiveHost, policy: Policy, where: Whereabouts) => string | undefined;
