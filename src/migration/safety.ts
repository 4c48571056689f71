/**
 * QEMU before 9.0 under TCG can miss pages a guest dirties during a live
 * migration (fixed upstream by "physmem: Fix migration dirty bitmap coherency
 * with TCG memory access"). On these machines it corrupted loaded guests whose
 * RAM was a multiple of 256 KiB in most runs, while QEMU reported success;
 * with other sizes (e.g. 262084Ki) every run was clean. We refuse the
 * affected combination unless the caller forces it.
 */
import { PolyvisorError } from '../shared/index.js';

const BLOCK = 256 * 1024;

export interface SafetyInput {
  vm: string;
  accel: 'kvm' | 'tcg';
  /** QEMU version text, e.g. "7.2.22". */
  qemuVersion: string;
  memoryBytes: number;
}

/** True when this VM is exposed to the TCG dirty-bitmap bug. */
export function tcgDirtyBitmapRisk(i: SafetyInput): boolean {
  const major = Number(/^(\d+)\./.exec(i.qemuVersion)?.[1] ?? 0);
  const kib = Math.ceil(i.memoryBytes / 1024); // what QEMU gets (-m …K)
  return i.accel === 'tcg' && major < 9 && (kib * 1024) % BLOCK === 0;
}

/** A nearby safe size: 60 KiB less than the configured one, so it is no multiple of 256 KiB. */
export function safeMemorySuggestion(memoryBytes: number): string {
  return `${Math.ceil(memoryBytes / 1024) - 60}Ki`;
}

/** Throws MIGRATION_UNSAFE for the affected combination; returns warnings to report otherwise. */
export function checkMigrationSafety(i: SafetyInput, forceUnsafe: boolean): string[] {
  if (!tcgDirtyBitmapRisk(i)) return [];
  const what = `VM ${i.vm} runs under TCG on QEMU ${i.qemuVersion} with ${Math.ceil(i.memoryBytes / 1024)} KiB of RAM (a multiple of 256 KiB)`;
  if (forceUnsafe) return [`${what}: forced despite QEMU's TCG dirty-bitmap bug; the guest may be corrupted after the move`];
  throw new PolyvisorError('MIGRATION_UNSAFE', `${what}: QEMU before 9.0 can lose guest memory writes during this migration and still report success`, {
    hint: `Give VM ${i.vm} a memory size that is not a multiple of 256 KiB, such as ${safeMemorySuggestion(i.memoryBytes)}, run it under KVM, or use QEMU >= 9.0; \`polyvisor vm migrate ${i.vm} --force-unsafe\` moves it anyway.`,
    details: { accel: i.accel, qemuVersion: i.qemuVersion, memoryKiB: Math.ceil(i.memoryBytes / 1024) },
  });
}
