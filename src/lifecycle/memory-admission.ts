/**
 * A start is refused when the host cannot hold the guest's RAM (audit defect
 * 10): QEMU allocates guest memory lazily, so without this check an
 * over-committed host starts the VM and the kernel's OOM killer picks a
 * victim later, maybe another VM. Needed: guest RAM + 64 MiB for QEMU + the
 * daemon's host reserve (`memoryReserveMiB`, shared with incoming moves),
 * against /proc/meminfo's MemAvailable.
 */
import { readFile } from 'node:fs/promises';
import { fail } from '../shared/index.js';
import type { VmSpec } from '../spec/index.js';

/** A running QEMU's RAM beside its guest RAM (device model, buffers): what a start or an incoming move must find free too. */
export const QEMU_OVERHEAD_BYTES = 64 * 1024 ** 2;
const MiB = 1024 ** 2;

export function memAvailable(meminfo: string): number | undefined {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(meminfo);
  return m ? Number(m[1]) * 1024 : undefined;
}

export async function checkHostMemory(spec: Pick<VmSpec, 'name' | 'memory'>, reserveBytes: number, readMeminfo: () => Promise<string> = () => readFile('/proc/meminfo', 'utf8')): Promise<void> {
  const available = memAvailable(await readMeminfo().catch(() => ''));
  if (available === undefined) return; // not Linux, or /proc unreadable: nothing to judge by
  const need = spec.memory + QEMU_OVERHEAD_BYTES + reserveBytes;
  if (available >= need) return;
  const mib = (b: number): string => `${Math.round(b / MiB)} MiB`;
  fail('HOST_MEMORY_LOW', `VM ${spec.name} needs ${mib(spec.memory)} of guest RAM (+${mib(QEMU_OVERHEAD_BYTES)} for QEMU, +${mib(reserveBytes)} the host keeps), and this host has ${mib(available)} available`, {
    details: { needBytes: need, availableBytes: available, guestBytes: spec.memory, reserveBytes },
  });
}
