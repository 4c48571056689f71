/**
 * CPU count and memory of a stopped VM, with PUT .../config (synchronous)
 * guarded by the config's digest so a concurrent edit in Proxmox is not
 * overwritten. CPUs are sockets × cores: the socket count is kept when it
 * divides the new count, else one socket.
 */
import { fail } from '../../shared/index.js';
import type { ForeignReconfigure } from '../endpoint.js';
import type { PveContext } from './context.js';

const MiB = 1024 * 1024;

export function reconfigurePart(x: PveContext): ForeignReconfigure {
  return {
    setCpuMemory: async (vm, change, s) => {
      if (change.cpus !== undefined && (!Number.isInteger(change.cpus) || change.cpus < 1)) fail('INVALID_ARGUMENT', `cpus must be a whole number of at least 1, not ${change.cpus}`);
      if (change.memoryBytes !== undefined && (change.memoryBytes % MiB !== 0 || change.memoryBytes < 16 * MiB)) {
        fail('INVALID_ARGUMENT', `memory for a Proxmox VM is a whole number of MiB, at least 16 MiB (got ${change.memoryBytes} bytes)`);
      }
      const r = await x.resolve(vm, s);
      const now = await x.describe(r, s);
      if (now.state !== 'stopped') fail('INVALID_TRANSITION', `${vm} is ${now.state}: stop it before changing CPUs or memory (Proxmox would keep the change pending until the next boot)`);
      const conf = await x.config(r, s);
      const params: Record<string, string | number | undefined> = { digest: conf['digest'] as string | undefined };
      if (change.cpus !== undefined) {
        const sockets = Number(conf['sockets'] ?? 1);
        params['sockets'] = change.cpus % sockets === 0 ? sockets : 1;
        params['cores'] = change.cpus / (params['sockets'] as number);
        if (conf['vcpus'] !== undefined) params['delete'] = 'vcpus';
      }
      if (change.memoryBytes !== undefined) params['memory'] = change.memoryBytes / MiB;
      await x.client.put(x.path(r, '/config'), params, s);
    },
  };
}
