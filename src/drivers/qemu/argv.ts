/**
 * LaunchPlan → QEMU argv. PURE: no file system, no clock, no environment; the
 * same plan gives the same argv (golden tests in test/golden/qemu/).
 *
 * The result does NOT include the binary: spawn it as
 * `run(qemuBinary, buildQemuArgv(plan, env))`. Values reach QEMU only as argv
 * elements (never through a shell); option-string values are comma-escaped
 * by qemu-opts.ts.
 */
import { PolyvisorError } from '../../shared/index.js';
import type { ResolvedDevices, VmSpec } from '../../spec/index.js';
import type { Accel, LaunchPlan, RuntimeFiles } from '../driver.js';
import { diskArgs } from './argv-disks.js';
import { hotplugPortArgs, withSeedDisk } from './argv-extras.js';
import { agentArgs, displayArgs, networkArgs, serialArgs } from './argv-devices.js';
import { cpuMemoryArgs } from './argv-topology.js';
import { bootTimeSpec, hotpluggedArgs } from './argv-hotplugged.js';
import { balloonAndDeviceArgs } from './argv-topology-devices.js';
import { opts, optValue } from './qemu-opts.js';

/** An installed OVMF pair. The argv uses `code` and the VM's own NVRAM (files.nvram), copied from `vars`. */
export interface OvmfFiles {
  code: string;
  vars: string;
}

export interface ArgvEnv {
  accel: Accel;
  files: RuntimeFiles;
  /** Required when spec.boot.firmware is 'uefi'. */
  firmware?: OvmfFiles;
  /** PCI addresses for spec.devices' vendor:device selectors (spec checkAgainstHost). */
  devices?: ResolvedDevices;
}

export function buildQemuArgv(plan: LaunchPlan, env: ArgvEnv): string[] {
  const { spec } = plan;
  const { files } = env;
  const boot = bootIndexes(spec);
  const seeded = withSeedDisk(plan); // + the cloud-init CD, which never gets a boot index
  return [
    '-name', opts(undefined, [['guest', spec.name], ['debug-threads', true]]),
    '-uuid', plan.id,
    '-nodefaults',
    '-no-user-config',
    '-msg', 'timestamp=on',
    // seccomp (audit defect 5): no obsolete syscalls, no set*uid, no fork/exec, no scheduler/affinity changes.
    '-sandbox', 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
    '-pidfile', files.pidFile,
    '-qmp', `unix:${optValue(files.qmpSocket)},server=on,wait=off`,
    '-machine', spec.boot.secureBoot === true ? opts(spec.machine.type, [['smm', true]]) : spec.machine.type,
    '-accel', env.accel,
    ...cpuMemoryArgs(bootTimeSpec(spec, plan.hotplugged), cpuModel(spec, env.accel)),
    ...hotpluggedArgs(spec, plan.hotplugged),
    ...firmwareArgs(spec, env),
    ...kernelArgs(spec),
    ...diskArgs(seeded.spec, seeded.diskPaths, boot, plan.diskSecrets, plan.diskBackingFiles),
    ...networkArgs(plan.id, spec, boot, plan.taps, plan.nicMtu),
    ...serialArgs(spec, files),
    ...agentArgs(spec, files),
    ...displayArgs(spec, files),
    ...hotplugPortArgs(plan),
    ...balloonAndDeviceArgs(spec, plan.id, env.devices),
    ...(plan.restoreFrom === undefined ? [] : ['-incoming', 'defer']),
  ];
}

export { memoryArg } from './argv-topology.js';

function cpuModel(spec: VmSpec, accel: Accel): string {
  if (spec.cpu.model === 'host' && accel !== 'kvm') {
    throw new PolyvisorError('ACCEL_UNAVAILABLE', `VM ${spec.name} uses cpu model "host", which needs KVM, but it would run under ${accel}`, {
      hint: 'Use cpu model "max" (all features the accelerator supports), or run it on a host where KVM works.',
    });
  }
  return spec.cpu.model;
}

function firmwareArgs(spec: VmSpec, env: ArgvEnv): string[] {
  if (spec.boot.firmware !== 'uefi') return [];
  if (!env.firmware) throw new PolyvisorError('OVMF_MISSING', `VM ${spec.name} boots with UEFI, but no OVMF firmware was found`);
  // Secure Boot: the firmware's variable store may be written only from SMM, so the guest cannot change the keys.
  const secure = spec.boot.secureBoot === true ? ['-global', 'driver=cfi.pflash01,property=secure,value=on'] : [];
  return [
    ...secure,
    '-drive', opts(undefined, [['if', 'pflash'], ['format', 'raw'], ['unit', 0], ['readonly', true], ['file', env.firmware.code]]),
    '-drive', opts(undefined, [['if', 'pflash'], ['format', 'raw'], ['unit', 1], ['file', env.files.nvram]]),
  ];
}

/** -kernel/-initrd/-append are plain strings in QEMU (not option lists): no comma escaping. */
function kernelArgs(spec: VmSpec): string[] {
  const b = spec.boot;
  if (b.kernel === undefined) return [];
  return [
    '-kernel', b.kernel,
    ...(b.initrd === undefined ? [] : ['-initrd', b.initrd]),
    ...(b.cmdline === undefined ? [] : ['-append', b.cmdline]),
  ];
}

/**
 * Boot indexes: a disk's explicit bootIndex wins; the other devices are
 * numbered after the highest explicit one, following boot.order (disks, then
 * cdroms, then NICs, each in spec order). Kinds not in boot.order get none,
 * and under direct kernel boot only explicit indexes are set. Keys: disk
 * name, or `net:NAME` for NICs.
 */
export function bootIndexes(spec: VmSpec): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of spec.disks) if (d.bootIndex !== undefined) out.set(d.name, d.bootIndex);
  if (spec.boot.kernel !== undefined) return out;
  let next = out.size === 0 ? 1 : Math.max(...out.values()) + 1;
  for (const kind of spec.boot.order) {
    if (kind === 'network') {
      for (const n of spec.networks) out.set(`net:${n.name}`, next++);
      continue;
    }
    for (const d of spec.disks) {
      if (d.media === kind && !out.has(d.name)) out.set(d.name, next++);
    }
  }
  return out;
}
