/**
 * CPU count and memory of a stopped VM: ModifyResourceSettings with the VM's
 * Msvm_ProcessorSettingData and Msvm_MemorySettingData as embedded
 * instances (their InstanceID and the new VirtualQuantity: a count, MiB).
 */
import { fail } from '../../shared/index.js';
import type { ForeignReconfigure } from '../endpoint.js';
import { embedded, str } from './cim.js';
import type { HvContext } from './context.js';
import { stateOf } from './map.js';
import { num } from './cim.js';

const MiB = 1024 * 1024;

export function reconfigurePart(x: HvContext): ForeignReconfigure {
  return {
    setCpuMemory: async (vm, change, s) => {
      if (change.cpus !== undefined && (!Number.isInteger(change.cpus) || change.cpus < 1 || change.cpus > 240)) fail('INVALID_ARGUMENT', `cpus must be a whole number from 1 to 240 (Hyper-V's limit), not ${change.cpus}`);
      if (change.memoryBytes !== undefined && (change.memoryBytes % (2 * MiB) !== 0 || change.memoryBytes < 32 * MiB)) {
        fail('INVALID_ARGUMENT', `memory for a Hyper-V VM is a multiple of 2 MiB, at least 32 MiB (got ${change.memoryBytes} bytes)`);
      }
      const { found, facts } = await x.factsOf(vm, s);
      const state = stateOf(num(found.system, 'EnabledState'));
      if (state !== 'stopped') fail('INVALID_TRANSITION', `${vm} is ${state}: turn it off before changing CPUs or memory`);
      const items: string[] = [];
      if (change.cpus !== undefined && facts.processor) items.push(embedded('Msvm_ProcessorSettingData', { InstanceID: { type: 'string', value: str(facts.processor, 'InstanceID')! }, VirtualQuantity: { type: 'uint64', value: String(change.cpus) } }));
      if (change.memoryBytes !== undefined && facts.memory) items.push(embedded('Msvm_MemorySettingData', { InstanceID: { type: 'string', value: str(facts.memory, 'InstanceID')! }, VirtualQuantity: { type: 'uint64', value: String(change.memoryBytes / MiB) } }));
      if (items.length === 0) return;
      await x.run(found.host, await found.host.service('Msvm_VirtualSystemManagementService', s), 'ModifyResourceSettings', { ResourceSettings: items }, `reconfigure ${vm}`, s);
    },
  };
}
