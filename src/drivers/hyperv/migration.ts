/**
 * Live migration between Hyper-V hosts of the endpoint (the one addressed
 * and its peers): Msvm_VirtualSystemMigrationService.MigrateVirtualSystemToHost
 * on the VM's current host with MigrationType 32768 (the virtual system;
 * the disks stay on shared storage), followed through its Msvm_ConcreteJob
 * with PercentComplete as progress.
 */
import { fail } from '../../shared/index.js';
import type { ForeignMigration } from '../endpoint.js';
import { embedded } from './cim.js';
import { vmRef, type HvContext } from './context.js';

export function migrationPart(x: HvContext): ForeignMigration {
  return {
    migrate: async (vm, target, s, onProgress) => {
      const dest = x.host(target);
      if (!dest) fail('INVALID_ARGUMENT', `host ${target} is not part of Hyper-V endpoint ${x.endpoint} (hosts: ${x.hosts.map((h) => h.name).join(', ')}); add it with peer=HOST in the endpoint URL`);
      const f = await x.find(vm, s);
      if (f.host === dest) fail('INVALID_ARGUMENT', `${vm} already runs on host ${dest.name} of Hyper-V endpoint ${x.endpoint}`);
      const settings = embedded('Msvm_VirtualSystemMigrationSettingData', { MigrationType: { type: 'uint16', value: '32768' }, TransportType: { type: 'uint16', value: '5' } });
      await x.run(f.host, await f.host.service('Msvm_VirtualSystemMigrationService', s), 'MigrateVirtualSystemToHost',
        { ComputerSystem: vmRef(f.guid), DestinationHost: dest.name, MigrationSettingData: settings }, `migrate ${vm} to ${dest.name}`, s, onProgress);
    },
  };
}
