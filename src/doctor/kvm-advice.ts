/**
 * The accelerator finding: what the probe chose, and advice that follows the
 * CPU's flags. `modprobe kvm_intel|kvm_amd` helps only when the CPU offers
 * vmx/svm and /dev/kvm is missing; without those flags no module can help:
 * the firmware (or the outer hypervisor, when this host is a VM) must offer it.
 */
import { access, readFile } from 'node:fs/promises';
import type { AccelProbe } from '../drivers/index.js';
import { fix, type Finding } from './types.js';

export interface CpuVirtualization {
  /** vmx: Intel VT-x; svm: AMD-V; null: neither offered. */
  flag: 'vmx' | 'svm' | null;
  /** The CPU says it runs under a hypervisor (this host is a VM). */
  guest: boolean;
}

/** Reads the flags lines of /proc/cpuinfo text; null when it has none (not Linux x86, or unreadable). */
export function cpuVirtualization(cpuinfo: string): CpuVirtualization | null {
  const lines = cpuinfo.split('\n').filter((l) => /^flags\s*:/.test(l));
  if (lines.length === 0) return null;
  const flags = new Set(lines.flatMap((l) => l.slice(l.indexOf(':') + 1).trim().split(/\s+/)));
  return { flag: flags.has('vmx') ? 'vmx' : flags.has('svm') ? 'svm' : null, guest: flags.has('hypervisor') };
}

export interface AccelHost {
  /** /proc/cpuinfo text, or null when it could not be read. */
  cpuinfo: string | null;
  /** Whether the KVM device (/dev/kvm) exists. */
  kvmDevice: boolean;
}

const TCG = 'TCG (software emulation, 10-50x slower)';

/** The `accel` finding for a probe result on a host with these CPU flags and devices. */
export function accelFinding(probe: AccelProbe | { accel: null; reason: string; kvmTried: boolean }, host: AccelHost): Finding {
  if (probe.accel === 'kvm') return { check: 'accel', severity: 'ok', subject: 'kvm', message: `KVM works: ${probe.reason}`, fix: null };
  const base = { check: 'accel', severity: probe.accel === 'tcg' ? 'warning' : 'critical', subject: probe.accel ?? 'none' } as const;
  const now = `guests run under ${probe.accel === 'tcg' ? TCG : 'no accelerator'}`;
  const cpu = host.cpuinfo === null ? null : cpuVirtualization(host.cpuinfo);
  if (probe.kvmTried || host.kvmDevice || cpu === null) return { ...base, message: `${now}; KVM not used: ${probe.reason}`, fix: null };
  if (cpu.flag === null) {
    const where = cpu.guest
      ? 'the VM this host runs in offers no hardware virtualization (no vmx or svm flag in /proc/cpuinfo): enable nested virtualization for it on the outer hypervisor (e.g. kvm_intel nested=1, or "expose hardware-assisted virtualization" in vSphere), then restart it'
      : 'this CPU offers no hardware virtualization (no vmx or svm flag in /proc/cpuinfo): enable Intel VT-x or AMD-V in the firmware (BIOS/UEFI) setup and reboot; if the CPU has none, KVM cannot be used here';
    return { ...base, message: `KVM cannot work: ${where}. Meanwhile ${now}.`, fix: null };
  }
  const module = cpu.flag === 'vmx' ? 'kvm_intel' : 'kvm_amd';
  return { ...base, message: `${now}; KVM not used: the CPU offers ${cpu.flag === 'vmx' ? 'Intel VT-x (vmx)' : 'AMD-V (svm)'} but /dev/kvm is missing: load the ${module} module`, fix: fix('modprobe', module) };
}

/** Reads this host's CPU flags and KVM device (paths overridable for tests). */
export async function readAccelHost(o: { cpuinfoFile?: string; kvmDevice?: string } = {}): Promise<AccelHost> {
  const cpuinfo = await readFile(o.cpuinfoFile ?? '/proc/cpuinfo', 'utf8').catch(() => null);
  const kvmDevice = await access(o.kvmDevice ?? '/dev/kvm').then(() => true, () => false);
  return { cpuinfo, kvmDevice };
}
