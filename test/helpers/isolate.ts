/**
 * Keeping integration tests apart: every test makes its own VMs and leaves
 * none behind, and a test that killed or restarted its file's daemon does
 * not leave the next test a dead (or oddly configured) one.
 */
import { killQemusUnder, type TestDaemon } from './daemon.js';

/** Whether the daemon's process is still running (false when there is none). */
export function daemonAlive(d: TestDaemon | undefined): boolean {
  return d?.alive() ?? false;
}

/** Force-removes every VM the daemon knows, then SIGKILLs any QEMU still running under its state directory. */
export async function removeAllVms(d: TestDaemon | undefined): Promise<void> {
  if (!d) return;
  if (daemonAlive(d)) {
    const vms = await d.client.listVms().catch(() => []);
    for (const v of vms) await d.client.removeVm(v.name, { force: true }).catch(() => undefined);
  }
  killQemusUnder(d.stateDir);
}
