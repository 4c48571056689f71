/**
 * Can this VM move to that host? Compares what the source sends (the VM's
 * spec, its QEMU version, accelerator and host CPU flags, the features the
 * move needs) with the target's own facts. PURE: returns every difference
 * with how to fix it; the target refuses with MIGRATION_INCOMPATIBLE when
 * the list is not empty (unit-tested in compat.test.ts).
 */
import { QEMU_OVERHEAD_BYTES } from '../lifecycle/index.js';
import type { HostFacts } from '../drivers/index.js';
import type { VmSpec } from '../spec/index.js';

export interface SourceFacts {
  host: string;
  qemuVersion: string;
  accel: 'kvm' | 'tcg';
  cpuFlags: string[];
}

export interface CompatInput {
  spec: VmSpec;
  mode: 'live' | 'offline';
  source: SourceFacts;
  /** Migration capabilities the move will switch on (postcopy-ram, multifd…). */
  features: string[];
  /** Bytes the target must keep free for itself after the VM's RAM is placed. */
  memoryReserveBytes: number;
}

export interface Incompatibility {
  what: 'machine-type' | 'accelerator' | 'cpu-model' | 'memory' | 'qemu-version' | 'feature';
  source: string;
  target: string;
  fix: string;
}


function majorMinor(v: string): [number, number] {
  const [a = 0, b = 0] = v.split('.').map(Number);
  return [a, b];
}

export function checkCompatibility(i: CompatInput, t: HostFacts): Incompatibility[] {
  const out: Incompatibility[] = [];
  const { spec } = i;
  if (!t.machineTypes.includes(spec.machine.type)) {
    out.push({ what: 'machine-type', source: spec.machine.type, target: t.machineTypes.slice(0, 8).join(', '), fix: `install a QEMU on the target that has machine type ${spec.machine.type}, or change the VM's machine type` });
  }
  // An offline move starts the VM afresh on the target: only the spec must fit there.
  if (i.mode === 'live') {
    if (t.accel !== i.source.accel) {
      out.push({ what: 'accelerator', source: i.source.accel, target: t.accel, fix: 'a live migration needs the same accelerator on both hosts (KVM to KVM, or TCG to TCG); stop the VM and move it offline instead' });
    }
    const [sM, sm] = majorMinor(i.source.qemuVersion);
    const [tM, tm] = majorMinor(t.qemuVersion);
    if (tM < sM || (tM === sM && tm < sm)) {
      out.push({ what: 'qemu-version', source: i.source.qemuVersion, target: t.qemuVersion, fix: 'QEMU can load a migration stream from the same or an older version only: upgrade QEMU on the target, or move the VM offline' });
    }
    const hostDependent = spec.cpu.model === 'host' || (spec.cpu.model === 'max' && t.accel === 'kvm');
    if (hostDependent) {
      const missing = i.source.cpuFlags.filter((f) => !t.cpuFlags.includes(f));
      if (missing.length) {
        out.push({ what: 'cpu-model', source: `${spec.cpu.model} (${i.source.cpuFlags.length} host flags)`, target: `missing ${missing.slice(0, 12).join(' ')}${missing.length > 12 ? ' …' : ''}`, fix: `the guest sees the source CPU's features under CPU model "${spec.cpu.model}": use a named CPU model both hosts support (e.g. Skylake-Client), or a target with the same CPU` });
      }
    } else if (spec.cpu.model === 'max' && i.source.qemuVersion !== t.qemuVersion) {
      out.push({ what: 'cpu-model', source: `max under TCG on QEMU ${i.source.qemuVersion}`, target: `QEMU ${t.qemuVersion}`, fix: 'TCG\'s "max" CPU model differs between QEMU versions: run the same QEMU version on both hosts, or use a named CPU model' });
    }
    for (const f of i.features) {
      if (!t.capabilities.includes(f)) out.push({ what: 'feature', source: f, target: `QEMU ${t.qemuVersion} lacks it`, fix: `move without ${f}, or upgrade QEMU on the target` });
    }
  }
  const need = spec.memory + QEMU_OVERHEAD_BYTES + i.memoryReserveBytes;
  if (i.mode === 'live' && t.memAvailableBytes < need) {
    const mib = (b: number) => `${Math.round(b / 1024 ** 2)} MiB`;
    out.push({ what: 'memory', source: `${mib(spec.memory)} of guest RAM (+${mib(QEMU_OVERHEAD_BYTES)} QEMU, +${mib(i.memoryReserveBytes)} host reserve)`, target: `${mib(t.memAvailableBytes)} available`, fix: 'free memory on the target, lower its migration memory reserve, or pick another target' });
  }
  return out;
}

/** One line for an error message. */
export function describeIncompatibilities(list: readonly Incompatibility[]): string {
  return list.map((x) => `${x.what}: the VM needs ${x.source}, the target has ${x.target}`).join('; ');
}
