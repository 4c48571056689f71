/** Builders for the scheduler's unit tests and the placement benchmark. Pure. */
import type { HostCandidate, PlacementRequest } from './types.js';

export const GiB = 1024 ** 3;

export function host(name: string, over: Partial<HostCandidate> = {}): HostCandidate {
  return {
    name,
    state: 'ready',
    capacity: { cpus: 16, memoryBytes: 64 * GiB, diskBytes: 1000 * GiB },
    allocated: { cpus: 0, memoryBytes: 0, diskBytes: 0 },
    ...over,
  };
}

export function vm(name: string, over: Partial<PlacementRequest> = {}): PlacementRequest {
  return { vm: name, cpus: 2, memoryBytes: 4 * GiB, diskBytes: 20 * GiB, ...over };
}
