/**
 * The argv of a live migration's target when the source had vCPUs or DIMMs
 * hot-added (`vm resize`): QEMU loads a migration stream only into the same
 * device set, so the target starts with the source's boot-time layout (-smp
 * cpus= the boot count, -m the boot RAM, guest node sizes without the DIMMs)
 * plus each hot-added device with its id: `-device TYPE,id=pv-cpu-…,socket-id=…`
 * and `-object memory-backend-…,id=pv-memN` + `-device pc-dimm,id=pv-dimmN,…`
 * with the source's address and slot. This is what libvirt does (its domain
 * XML keeps hot-added <vcpu>s and <memory model='dimm'> devices). A cold start
 * ignores all of it: the spec's totals then boot as plain boot-time resources.
 * PURE.
 */
import type { VmSpec } from '../../spec/index.js';
import type { HotplugLayout } from '../resource-hotplug.js';
import { memoryBackendOpt } from './argv-topology.js';
import { opts } from './qemu-opts.js';

const hasDevices = (h: HotplugLayout | undefined): h is HotplugLayout => h !== undefined && (h.cpus.length > 0 || h.dimms.length > 0);

/** The spec as QEMU booted it: vCPUs and RAM without the hot-added ones (each DIMM taken off its guest node). */
export function bootTimeSpec(spec: VmSpec, h: HotplugLayout | undefined): VmSpec {
  if (!hasDevices(h)) return spec;
  const numa = spec.memoryLayout?.numa;
  const onNode = (i: number): number => h.dimms.filter((d) => d.node === i).reduce((n, d) => n + d.bytes, 0);
  return {
    ...spec,
    cpu: { ...spec.cpu, count: h.bootCpus },
    memory: h.bootMemoryBytes,
    ...(numa?.length ? { memoryLayout: { ...spec.memoryLayout, numa: numa.map((n, i) => ({ ...n, memory: n.memory - onNode(i) })) } } : {}),
  };
}

/** `-device` for each hot-added vCPU, `-object` + `-device pc-dimm` for each DIMM (backends as cpu-memory-hotplug.ts adds them). */
export function hotpluggedArgs(spec: VmSpec, h: HotplugLayout | undefined): string[] {
  if (!hasDevices(h)) return [];
  const numa = (spec.memoryLayout?.numa?.length ?? 0) > 0;
  const out: string[] = [];
  for (const c of h.cpus) out.push('-device', opts(c.type, [['id', c.id], ...Object.entries(c.props)]));
  for (const d of h.dimms) {
    out.push(
      '-object', memoryBackendOpt(d.memdev, d.bytes, spec, undefined, undefined),
      '-device', opts('pc-dimm', [['id', d.id], ['memdev', d.memdev], ['addr', d.addr], ['slot', d.slot], ...(numa ? [['node', d.node] as const] : [])]),
    );
  }
  return out;
}
