/** Re-attaching to a VM's QEMU after a daemon restart (it kept running without us). */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { QmpClient } from '../../qmp/index.js';
import { pidArgv, type Logger } from '../../shared/index.js';
import type { Accel, AdoptResult, LaunchPlan } from '../driver.js';
import { runtimeFiles } from './files.js';
import { QemuInstance } from './instance.js';
import { recoverInterruptedMigration } from './migrate-recover.js';
import { argvValue, qemuArgvOf, readPidFile } from './process.js';
import { VmFileGrants } from './vm-files-grant.js';
import type { VmUsers } from './vm-user.js';

/** The real uid a process runs as (/proc/PID/status), undefined when it is gone. */
async function processUid(pid: number): Promise<number | undefined> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /^Uid:\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

export async function adopt(plan: LaunchPlan, signal: AbortSignal, logger: Logger, users?: VmUsers): Promise<AdoptResult> {
  const dir = path.resolve(plan.dir);
  const files = runtimeFiles(dir);
  const log = logger.child({ vm: plan.spec.name, id: plan.id });
  await recoverInterruptedMigration({ ...plan, dir }, log); // a live migration the daemon did not see through
  const pid = await readPidFile(files.pidFile);
  if (pid === undefined) return { ok: false, reason: `QEMU is not running (no pidfile at ${files.pidFile})` };
  const argv = await qemuArgvOf(pid, plan.id);
  if (!argv) {
    const other = await pidArgv(pid);
    return { ok: false, reason: other ? `pid ${pid} is not this VM's QEMU (PID reused)` : `QEMU (pid ${pid}) is gone` };
  }
  let qmp: QmpClient;
  try {
    qmp = await QmpClient.connect(files.qmpSocket, { signal });
  } catch (err) {
    // Alive but unreachable: report it and leave the process alone (never kill a guest silently).
    return { ok: false, reason: `QEMU (pid ${pid}) is running but its monitor did not answer: ${(err as Error).message}` };
  }
  const accel: Accel = argvValue(argv, '-accel') === 'kvm' ? 'kvm' : 'tcg';
  const started = await stat(files.pidFile).then((s) => s.mtime.toISOString(), () => new Date().toISOString());
  // A QEMU started before the daemon ran VMs as their own users keeps running as root; it is confined at its next start.
  const uid = await processUid(pid);
  const grants = users && uid !== undefined && uid !== 0 ? new VmFileGrants(users, await users.identity(plan.id, dir), dir) : undefined;
  log.info({ pid, accel, uid }, 'adopted running QEMU');
  const info = { pid, accel, startedAt: started, qemuVersion: qmp.version.text };
  return { ok: true, instance: new QemuInstance({ plan: { ...plan, dir }, files, pid, qmp, info, logger: log, ...(grants ? { grants } : {}) }) };
}
