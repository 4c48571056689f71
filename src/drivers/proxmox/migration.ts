/**
 * Moving a VM to another node of the cluster: POST .../migrate with online=1
 * (live when it runs; Proxmox ignores it for a stopped VM), followed with
 * the progress its log states.
 */
import { fail } from '../../shared/index.js';
import type { ForeignMigration } from '../endpoint.js';
import type { PveContext } from './context.js';

export function migrationPart(x: PveContext): ForeignMigration {
  return {
    migrate: async (vm, target, s, onProgress) => {
      const r = await x.resolve(vm, s);
      if (r.node === target) fail('INVALID_ARGUMENT', `${vm} already runs on node ${target} of Proxmox endpoint ${x.endpoint}`);
      await x.run(r, '/migrate', { target, online: 1 }, `migrate ${vm} to ${target}`, s, onProgress);
    },
  };
}
