/**
 * Changes to a VM's placement and shape: ReconfigVM_Task (numCPUs, memoryMB),
 * CloneVM_Task (a full clone into the source's folder, powered off), and
 * vMotion (RelocateVM_Task with the target host: live when the VM runs).
 */
import { PolyvisorError } from '../../shared/index.js';
import type { ForeignClone, ForeignMigration, ForeignReconfigure } from '../endpoint.js';
import type { Inventory } from './inventory.js';
import type { Properties } from './property-collector.js';
import type { SoapClient } from './soap-client.js';
import { ref, type SoapObject } from './soap-envelope.js';
import { runTask } from './tasks.js';

const MiB = 1024 * 1024;

export function reconfigurePart(soap: SoapClient, props: Properties, inv: Inventory): ForeignReconfigure {
  return {
    setCpuMemory: async (vm, change, signal) => {
      const spec: SoapObject = {};
      if (change.cpus !== undefined) {
        if (!Number.isInteger(change.cpus) || change.cpus < 1) throw new PolyvisorError('INVALID_ARGUMENT', `cpus must be a whole number of at least 1 (got ${change.cpus})`);
        spec.numCPUs = change.cpus;
      }
      if (change.memoryBytes !== undefined) {
        if (change.memoryBytes < 4 * MiB || change.memoryBytes % (4 * MiB) !== 0) {
          throw new PolyvisorError('INVALID_ARGUMENT', `vSphere memory is a multiple of 4 MiB of at least 4 MiB (got ${change.memoryBytes} bytes)`);
        }
        spec.memoryMB = change.memoryBytes / MiB;
      }
      if (!Object.keys(spec).length) return;
      const self = await inv.resolve(vm, signal);
      await runTask(soap, props, 'ReconfigVM_Task', self, { spec }, { signal, vm, what: 'reconfigure' });
    },
  };
}

export function clonePart(soap: SoapClient, props: Properties, inv: Inventory): ForeignClone {
  return {
    clone: async (vm, newName, signal, onProgress) => {
      const self = await inv.resolve(vm, signal);
      const p = await props.one(self, ['parent'], signal, vm);
      const folder = ref(p.parent);
      if (!folder) throw new PolyvisorError('ENDPOINT_PROTOCOL', `VM ${vm} has no folder to clone into (a vApp member?)`);
      inv.forget(newName);
      await runTask(soap, props, 'CloneVM_Task', self,
        { folder, name: newName, spec: { location: {}, template: false, powerOn: false } },
        { signal, vm, what: `clone to ${newName}`, onProgress });
      return inv.get(newName, signal);
    },
  };
}

export function migrationPart(soap: SoapClient, props: Properties, inv: Inventory): ForeignMigration {
  return {
    migrate: async (vm, targetHost, signal, onProgress) => {
      const self = await inv.resolve(vm, signal);
      const host = await inv.host(targetHost, signal);
      await runTask(soap, props, 'RelocateVM_Task', self,
        { spec: { host }, priority: 'defaultPriority' },
        { signal, vm, what: `vMotion to ${targetHost}`, onProgress });
    },
  };
}
