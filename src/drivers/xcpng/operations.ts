/**
 * Migration inside the pool (VM.pool_migrate, live, followed through its
 * task with progress), CPU and memory of a halted VM, and clones.
 */
import { fail } from '../../shared/index.js';
import type { ForeignClone, ForeignMigration, ForeignReconfigure } from '../endpoint.js';
import type { XcpContext } from './context.js';
import { toForeignVm } from './map.js';
import { int, type VmRecord } from './records.js';

const MiB = 1024 * 1024;

export function migrationPart(x: XcpContext): ForeignMigration {
  return {
    migrate: async (vm, target, s, onProgress) => {
      const { ref, rec } = await x.resolve(vm, s);
      const host = await x.host(target, s);
      if (rec.resident_on === host) fail('INVALID_ARGUMENT', `${vm} already runs on ${target}`);
      if (rec.power_state !== 'Running') fail('INVALID_TRANSITION', `live migration needs ${vm} running (it is ${rec.power_state.toLowerCase()})`);
      await x.run('VM.pool_migrate', [ref, host, { live: 'true' }], `migrate ${vm} to ${target}`, s, onProgress);
    },
  };
}

export function reconfigurePart(x: XcpContext): ForeignReconfigure {
  return {
    setCpuMemory: async (vm, change, s) => {
      const { ref, rec } = await x.resolve(vm, s);
      if (rec.power_state !== 'Halted') fail('INVALID_TRANSITION', `${vm} is ${rec.power_state.toLowerCase()}: XCP-ng changes vCPUs and memory limits of a halted VM`);
      if (change.memoryBytes !== undefined && (change.memoryBytes % MiB !== 0 || change.memoryBytes < 16 * MiB)) {
        fail('INVALID_ARGUMENT', `memory must be a whole number of MiB, at least 16 MiB (got ${change.memoryBytes} bytes)`);
      }
      if (change.cpus !== undefined) {
        const n = change.cpus;
        // VCPUs_at_startup may never exceed VCPUs_max: raise the max first when growing, lower it last when shrinking.
        if (n >= int(rec.VCPUs_max)) {
          await x.client.call('VM.set_VCPUs_max', [ref, n], s, `set vCPUs of ${vm}`);
          await x.client.call('VM.set_VCPUs_at_startup', [ref, n], s, `set vCPUs of ${vm}`);
        } else {
          await x.client.call('VM.set_VCPUs_at_startup', [ref, n], s, `set vCPUs of ${vm}`);
          await x.client.call('VM.set_VCPUs_max', [ref, n], s, `set vCPUs of ${vm}`);
        }
      }
      if (change.memoryBytes !== undefined) {
        const m = change.memoryBytes;
        const smin = Math.min(int(rec.memory_static_min) || m, m);
        await x.client.call('VM.set_memory_limits', [ref, smin, m, m, m], s, `set memory of ${vm}`);
      }
    },
  };
}

export function clonePart(x: XcpContext): ForeignClone {
  return {
    clone: async (vm, newName, s, onProgress) => {
      const { ref } = await x.resolve(vm, s);
      const all = await x.allVms(s);
      if (Object.values(all).some((r) => r.name_label === newName && !r.is_a_snapshot && !r.is_a_template)) fail('VM_EXISTS', `XCP-ng endpoint ${x.endpoint} already has a VM named ${newName}`);
      const made = await x.run('VM.clone', [ref, newName], `clone ${vm} as ${newName}`, s, onProgress);
      const rec = (await x.client.call('VM.get_record', [made], s, `read clone ${newName}`)) as VmRecord;
      return toForeignVm(rec, await x.records(s));
    },
  };
}
