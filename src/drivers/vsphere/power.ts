/**
 * Power operations: PowerOnVM_Task, ShutdownGuest (asks VMware Tools in the
 * guest; vCenter answers ToolsUnavailable without them), PowerOffVM_Task (the
 * kill), SuspendVM_Task, ResetVM_Task (a hard reset, as the vSphere client's
 * "Reset"). vSphere has no pause: the part is absent.
 */
import type { ForeignPower } from '../endpoint.js';
import type { Inventory } from './inventory.js';
import type { Properties } from './property-collector.js';
import type { SoapClient } from './soap-client.js';
import { runTask } from './tasks.js';

export function powerPart(soap: SoapClient, props: Properties, inv: Inventory): ForeignPower {
  const task = async (method: string, what: string, vm: string, signal: AbortSignal): Promise<void> => {
    const self = await inv.resolve(vm, signal);
    await runTask(soap, props, method, self, {}, { signal, vm, what });
  };
  return {
    start: (vm, signal) => task('PowerOnVM_Task', 'power on', vm, signal),
    shutdown: async (vm, signal) => {
      const self = await inv.resolve(vm, signal);
      await soap.call('ShutdownGuest', self, {}, signal, vm);
    },
    kill: (vm, signal) => task('PowerOffVM_Task', 'power off', vm, signal),
    suspend: (vm, signal) => task('SuspendVM_Task', 'suspend', vm, signal),
    reboot: (vm, signal) => task('ResetVM_Task', 'reset', vm, signal),
  };
}
