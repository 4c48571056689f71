/**
 * How long a test waits for the guest: one place, scaled by a calibration.
 *
 * test/setup/global.ts boots the test guest once with plain QEMU at the start
 * of the run and measures the time to its ready line (POLYVISOR_TEST_BOOT_MS).
 * Every guest wait (boot, shell answer, heartbeat, state change, a migration
 * or backup to finish) is a base figure measured on an idle 2-core machine
 * (REFERENCE_BOOT_MS) times how much slower this run's boot was, never less
 * than the base. A busy host (POLYVISOR_TEST_LOAD=1, or CI beside other work)
 * gets longer limits by itself; nothing in a test file is a fixed number.
 */

/** The test guest's boot to READY with plain QEMU, TCG, on an idle 2-core machine of the project's kind. */
export const REFERENCE_BOOT_MS = 2_700;

/** Base limits on the reference machine, in ms. */
const BASE = {
  /** From `vm start` to the guest's ready line. */
  boot: 60_000,
  /** One command in the guest's serial shell. */
  shell: 30_000,
  /** A memtest heartbeat (the guest prints one a second). */
  heartbeat: 30_000,
  /** A VM reaching a state (stop, resume…). */
  state: 30_000,
  /** A long operation on a small guest: a move, a backup, a snapshot, a restore. */
  operation: 120_000,
  /** A daemon to start and answer. */
  daemon: 30_000,
} as const;

export type WaitKind = keyof typeof BASE;

/** The boot time measured at the start of this run (the reference when none was measured). */
export function calibratedBootMs(): number {
  const v = Number(process.env['POLYVISOR_TEST_BOOT_MS']);
  return Number.isFinite(v) && v > 0 ? v : REFERENCE_BOOT_MS;
}

/** How much slower than the reference machine this run is (at least 1). */
export function slowdown(): number {
  return Math.max(1, calibratedBootMs() / REFERENCE_BOOT_MS);
}

/** `ms` on the reference machine, scaled to this run. */
export function scaled(ms: number): number {
  return Math.ceil(ms * slowdown());
}

/** The limit of one kind of guest wait, `times` over (e.g. a heartbeat wait that spans several beats). */
export function limit(kind: WaitKind, times = 1): number {
  return scaled(BASE[kind] * times);
}
