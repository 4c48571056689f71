/**
 * The machine part of a domain (type, memory, vCPUs and CPU model, <os>:
 * machine type, firmware, direct kernel boot, boot devices) → spec fields,
 * with what does not map listed. Pure.
 */
import { fail } from '../../shared/index.js';
import type { VmSpecInput } from '../../spec/index.js';
import { child, childText, intOf, kids, unknownChildren, type XNode } from './domain-xml-parse.js';
import { fits } from './domain-xml-read-fit.js';

type CpuInput = NonNullable<VmSpecInput['cpu']>;
type BootKind = 'disk' | 'cdrom' | 'network';

/** libvirt's memory units (docs: formatdomain "Memory Allocation"). */
const UNITS: Record<string, number> = {
  b: 1, bytes: 1, KB: 1000, k: 1024, KiB: 1024, MB: 1000 ** 2, M: 1024 ** 2, MiB: 1024 ** 2,
  GB: 1000 ** 3, G: 1024 ** 3, GiB: 1024 ** 3, TB: 1000 ** 4, T: 1024 ** 4, TiB: 1024 ** 4,
};
const MIN_MEMORY = 16 * 1024 ** 2;
const MAX_MEMORY = 4 * 1024 ** 4;
const CPU_MODELS = ['qemu64', 'kvm64', 'Skylake-Client', 'EPYC'] as const;
const BOOT_DEVS: Record<string, BootKind> = { hd: 'disk', cdrom: 'cdrom', network: 'network' };

export function accelOf(root: XNode): 'kvm' | 'tcg' {
  const type = root.attrs['type'];
  if (type === 'kvm') return 'kvm';
  if (type === 'qemu') return 'tcg';
  fail('SPEC_INVALID', `a domain of type ${JSON.stringify(type ?? '')} cannot become a Polyvisor VM (QEMU domains only: kvm or qemu)`, {
    details: [{ field: 'machine.accel', message: `domain type ${type ?? '(none)'} is not kvm or qemu` }],
  });
}

function bytesOf(n: XNode | undefined): number | undefined {
  const v = intOf(n?.text);
  const unit = UNITS[n?.attrs['unit'] ?? 'KiB'];
  return v === undefined || unit === undefined ? undefined : v * unit;
}

export function readMemory(root: XNode, lossy: string[]): number {
  const max = bytesOf(child(root, 'memory'));
  const current = bytesOf(child(root, 'currentMemory'));
  let bytes = max ?? 256 * 1024 ** 2;
  if (max === undefined) lossy.push('no readable <memory>: 256 MiB is used');
  if (current !== undefined && max !== undefined && current < max) lossy.push(`the balloon target (currentMemory ${current / 1024} KiB) is not kept: the VM gets all ${max / 1024} KiB`);
  if (child(root, 'maxMemory') !== undefined) lossy.push('memory hot-plug (<maxMemory>) is not kept');
  const kib = Math.ceil(bytes / 1024) * 1024;
  if (kib !== bytes) lossy.push(`memory ${bytes} bytes is rounded up to ${kib / 1024} KiB`);
  bytes = Math.min(Math.max(kib, MIN_MEMORY), MAX_MEMORY);
  if (bytes !== kib) lossy.push(`memory ${kib / 1024} KiB is outside what a spec allows; ${bytes / 1024} KiB is used`);
  return bytes;
}

export function readCpu(root: XNode, accel: 'kvm' | 'tcg', lossy: string[]): CpuInput {
  const vcpu = child(root, 'vcpu');
  const max = intOf(vcpu?.text) ?? 1;
  const current = intOf(vcpu?.attrs['current']) ?? max;
  if (current < max) lossy.push(`${max - current} hot-pluggable vCPUs are not kept (the VM gets ${current})`);
  if (vcpu?.attrs['cpuset'] !== undefined) lossy.push(`vCPU pinning (cpuset ${vcpu.attrs['cpuset']}) is not kept`);
  let count = Math.min(Math.max(current, 1), 256);
  if (count !== current) lossy.push(`${current} vCPUs is outside what a spec allows; ${count} are used`);
  const cpu = child(root, 'cpu');
  const model = cpuModel(cpu, accel, lossy);
  for (const f of kids(cpu, 'feature')) lossy.push(`CPU feature ${f.attrs['name'] ?? '?'} (policy ${f.attrs['policy'] ?? 'require'}) is not kept`);
  for (const name of unknownChildren(cpu ?? { name: 'cpu', attrs: {}, children: [], text: '' }, ['model', 'topology', 'feature', 'vendor', 'cache', 'maxphysaddr'])) {
    lossy.push(`<cpu><${name}> is not kept`);
  }
  const t = child(cpu, 'topology')?.attrs;
  if (t === undefined) return { count, model };
  const dies = (intOf(t['dies']) ?? 1) * (intOf(t['clusters']) ?? 1);
  const topo = { sockets: (intOf(t['sockets']) ?? 1) * dies, cores: intOf(t['cores']) ?? 1, threads: intOf(t['threads']) ?? 1 };
  if (dies > 1) lossy.push(`CPU dies/clusters are folded into sockets (${topo.sockets})`);
  if (topo.sockets * topo.cores * topo.threads !== count || !fits({ cpu: { count, ...topo } })) {
    lossy.push(`CPU topology ${t['sockets'] ?? 1}×${t['cores'] ?? 1}×${t['threads'] ?? 1} does not fit ${count} vCPUs in a spec; one socket of ${count} cores is used`);
    count = Math.min(count, 256);
    return { count, model };
  }
  return { count, model, ...topo };
}

function cpuModel(cpu: XNode | undefined, accel: 'kvm' | 'tcg', lossy: string[]): CpuInput['model'] {
  const modelName = childText(cpu, 'model');
  const mode = cpu?.attrs['mode'] ?? 'custom';
  if (mode === 'maximum') return 'max';
  if (mode === 'host-passthrough' || mode === 'host-model') {
    if (accel !== 'kvm') {
      lossy.push(`CPU mode ${mode} without KVM becomes max`);
      return 'max';
    }
    if (mode === 'host-model') lossy.push('CPU mode host-model becomes host (passthrough)');
    return 'host';
  }
  if (modelName === undefined) return 'qemu64'; // what QEMU gives a domain without a CPU model
  const known = CPU_MODELS.find((m) => m === modelName);
  if (known !== undefined) return known;
  lossy.push(`CPU model ${modelName} becomes max`);
  return 'max';
}

export interface OsRead {
  machine: 'q35' | 'pc';
  boot: NonNullable<VmSpecInput['boot']>;
  /** The <boot dev> list, mapped (undefined when there is none). */
  bootDevs?: BootKind[];
}

export function readOs(root: XNode, lossy: string[]): OsRead {
  const os = child(root, 'os');
  const type = child(os, 'type');
  if ((type?.text.trim() ?? 'hvm') !== 'hvm') fail('SPEC_INVALID', `an <os> of type ${type?.text.trim()} cannot become a Polyvisor VM (hvm only)`);
  const arch = type?.attrs['arch'] ?? 'x86_64';
  if (arch === 'i686') lossy.push('arch i686 becomes x86_64 (32-bit guests run there too)');
  else if (arch !== 'x86_64') fail('SPEC_INVALID', `a domain of arch ${arch} cannot become a Polyvisor VM (x86_64 only)`, { details: [{ field: 'machine.type', message: `arch ${arch}` }] });
  const m = type?.attrs['machine'] ?? 'pc';
  const machine = /^(pc-)?q35/.test(m) ? 'q35' : /^pc($|-i440fx|-\d)/.test(m) ? 'pc' : 'q35';
  if (machine === 'q35' && !/^(pc-)?q35/.test(m)) lossy.push(`machine ${m} becomes q35`);
  const loader = child(os, 'loader');
  const uefi = os?.attrs['firmware'] === 'efi' || loader?.attrs['type'] === 'pflash' || /OVMF|edk2/i.test(loader?.text ?? '');
  const secure = loader?.attrs['secure'] === 'yes' || kids(child(os, 'firmware'), 'feature').some((f) => f.attrs['name'] === 'secure-boot' && f.attrs['enabled'] === 'yes');
  if (secure) lossy.push('UEFI Secure Boot is not kept (plain OVMF is used)');
  const boot: OsRead['boot'] = { firmware: uefi ? 'uefi' : 'bios' };
  const kernel = childText(os, 'kernel');
  if (kernel !== undefined) {
    if (fits({ boot: { kernel } })) boot.kernel = kernel;
    else lossy.push(`direct kernel boot from ${JSON.stringify(kernel)} is not kept: the path has characters the spec does not allow`);
  }
  for (const [key, value] of [['initrd', childText(os, 'initrd')], ['cmdline', child(os, 'cmdline')?.text]] as const) {
    if (value === undefined || value === '') continue;
    if (boot.kernel !== undefined && fits({ boot: { kernel: '/k', [key]: value } })) boot[key] = value;
    else lossy.push(`the kernel ${key} ${JSON.stringify(value.slice(0, 80))} is not kept`);
  }
  const devs = kids(os, 'boot').map((b) => b.attrs['dev'] ?? '');
  for (const d of devs) if (BOOT_DEVS[d] === undefined) lossy.push(`boot device ${d} is not kept`);
  for (const name of unknownChildren(os ?? { name: 'os', attrs: {}, children: [], text: '' }, ['type', 'loader', 'nvram', 'kernel', 'initrd', 'cmdline', 'boot', 'bootmenu', 'smbios', 'bios', 'firmware', 'acpi'])) {
    lossy.push(`<os><${name}> is not kept`);
  }
  const bootDevs = devs.length === 0 ? undefined : [...new Set(devs.map((d) => BOOT_DEVS[d]).filter((k): k is BootKind => k !== undefined))];
  return { machine, boot, ...(bootDevs === undefined ? {} : { bootDevs }) };
}
