/**
 * Starting QEMU for a LaunchPlan: prepare the runtime directory, spawn QEMU
 * detached in its own session (argv array, no shell; spawn-detached.ts says
 * why not -daemonize), wait for its monitor and connect QMP, and for a
 * restore stream the save file in. Any failure after the spawn kills the
 * process again (revert stack of one).
 */
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { QmpClient } from '../../qmp/index.js';
import { fail, PolyvisorError, throwIfAborted, timeoutSignal, type Logger } from '../../shared/index.js';
import type { Accel, LaunchPlan, RuntimeFiles } from '../driver.js';
import type { VmSpec } from '../../spec/index.js';
import { buildQemuArgv, type OvmfFiles } from './argv.js';
import { applyPinning, checkTopologyOnHost } from './topology-start.js';
import { createVmMdevs, removeVmMdevs } from './mdev-sysfs.js';
import { QEMU_LOG, runtimeFiles, migrationSocket } from './files.js';
import { ensureNvram, findOvmf } from './firmware.js';
import { QemuInstance } from './instance.js';
import { isQemuOf, readPidFile, terminate } from './process.js';
import { restoreState } from './restore.js';
import { startQemu } from './spawn-detached.js';
import { cgroupLimits, type VmCgroups } from './cgroups.js';
import { grantForStart, startFiles, type VmFileGrants } from './vm-files-grant.js';
import type { VmUsers } from './vm-user.js';

/**
 * A QEMU that has just started answers its monitor within milliseconds on
 * a quiet host; on a saturated one (seen: load 10 on 2 cores) the greeting and
 * qmp_capabilities took over 5 s. The process exists, so waiting longer costs
 * nothing but the time a truly hung QEMU takes to be reported.
 */
export const FRESH_QEMU_QMP_TIMEOUT_MS = 60_000;

export interface LaunchContext {
  qemuBinary: string;
  logger: Logger;
  /** The accelerator this VM runs under (already resolved from the probe and the spec). */
  accel: Accel;
  ovmf?: readonly OvmfFiles[];
  /** Per-VM cgroups (CPU, memory, threads); none when undefined. */
  cgroups?: VmCgroups;
  /** How long QEMU may take to open its monitor socket (default 30 s). */
  spawnTimeoutMs?: number;
  /** Run each VM's QEMU as its own unprivileged user (qemuUser: per-vm); as the daemon's user when undefined. */
  users?: VmUsers;
  /** Under KVM: a guest's vCPUs stopped with a KVM internal error (the driver then runs later starts under TCG). */
  onKvmInternalError?: (vm: string, why: string) => void;
}

export async function launch(ctx: LaunchContext, plan: LaunchPlan, signal: AbortSignal): Promise<QemuInstance> {
  const dir = path.resolve(plan.dir);
  const files = runtimeFiles(dir);
  const log = ctx.logger.child({ vm: plan.spec.name, id: plan.id });
  await mkdir(dir, { recursive: true, mode: 0o750 });
  const old = await readPidFile(files.pidFile);
  if (old !== undefined && (await isQemuOf(old, plan.id))) {
    fail('QEMU_START_FAILED', `QEMU for VM ${plan.spec.name} is already running (pid ${old})`, {
      hint: 'Stop or kill the VM first; a restarted daemon adopts it on startup.',
    });
  }
  if (plan.restoreFrom !== undefined && !(await stat(plan.restoreFrom).catch(() => undefined))?.isFile()) {
    fail('FILE_NOT_FOUND', `save file ${plan.restoreFrom} of VM ${plan.spec.name} does not exist`);
  }
  await removeStale(files, dir);
  if (plan.restoreFrom === undefined) await rename(files.serialLog, `${files.serialLog}.1`).catch(() => undefined);
  let firmware: OvmfFiles | undefined;
  if (plan.spec.boot.firmware === 'uefi') {
    firmware = await findOvmf(ctx.ovmf, plan.spec.boot.secureBoot === true);
    await ensureNvram(files.nvram, firmware);
  }
  const devices = await checkTopologyOnHost(plan.spec);
  const argv = buildQemuArgv(plan, { accel: ctx.accel, files, ...(firmware ? { firmware } : {}), ...(devices ? { devices } : {}) });
  log.debug({ argv }, 'starting QEMU');
  const t0 = Date.now();
  const confined = ctx.users ? await confineVm(ctx.users, plan, dir, { qemuBinary: ctx.qemuBinary, accel: ctx.accel, firmwareCode: firmware?.code }) : undefined;
  const logFile = path.join(dir, QEMU_LOG);
  await rename(logFile, `${logFile}.1`).catch(() => undefined);
  let pid: number | undefined;
  let qmp: QmpClient | undefined;
  // Mediated devices (vGPUs) the argv names by UUID: made now, removed when this QEMU exits or fails to start.
  const mdevs = await createVmMdevs(plan.id, plan.spec, devices);
  const dropMdevs = async (): Promise<void> => {
    if (mdevs.length) await removeVmMdevs(plan.id, plan.spec).catch((err: unknown) => log.warn({ err }, 'could not remove the VM\'s mediated devices'));
  };
  try {
    const q = await startQemu({
      binary: ctx.qemuBinary, argv, qmpSocket: files.qmpSocket, logFile, signal,
      socketTimeoutMs: ctx.spawnTimeoutMs ?? 30_000, qmpTimeoutMs: FRESH_QEMU_QMP_TIMEOUT_MS,
      onPid: async (p, exited) => {
        pid = p;
        void exited.then(dropMdevs);
        await placeInCgroup(ctx.cgroups, plan.id, plan.spec, ctx.accel, p, exited);
      },
      ...(confined ? { user: confined.id } : {}),
    });
    qmp = q.qmp;
    throwIfAborted(signal, `starting VM ${plan.spec.name}`);
    await applyPinning(qmp, plan.spec, q.pid, signal);
    if (plan.restoreFrom !== undefined) {
      await restoreState({ qmp, dir, saveFile: plan.restoreFrom, signal, logger: log });
    }
    const info = { pid: q.pid, accel: ctx.accel, startedAt: new Date().toISOString(), qemuVersion: qmp.version.text };
    log.info({ pid: q.pid, accel: ctx.accel, ms: Date.now() - t0, restored: plan.restoreFrom !== undefined }, 'QEMU started');
    const onKvm = ctx.onKvmInternalError;
    return new QemuInstance({
      plan: { ...plan, dir }, files, pid: q.pid, qmp, info, logger: log, exited: q.exited, ...(confined ? { grants: confined } : {}),
      ...(onKvm ? { onKvmInternalError: (why: string) => onKvm(plan.spec.name, why) } : {}),
    });
  } catch (err) {
    qmp?.close();
    if (pid !== undefined) await terminate(pid, plan.id, timeoutSignal(10_000)).catch(() => undefined);
    else await dropMdevs();
    throw err instanceof PolyvisorError || !(err instanceof Error)
      ? err
      : new PolyvisorError('QEMU_START_FAILED', `starting QEMU for VM ${plan.spec.name} failed: ${err.message}`, { cause: err });
  }
}

/** The VM's user and the grants of the files it starts with (vm-user.ts, vm-files-grant.ts). */
export async function confineVm(users: VmUsers, plan: LaunchPlan, dir: string, q: { qemuBinary: string; accel: Accel; firmwareCode?: string | undefined }): Promise<VmFileGrants> {
  const id = await users.identity(plan.id, dir);
  const files = startFiles(plan);
  const grants = await grantForStart(users, id, { dir, ...files });
  if (!users.o.appArmor) return grants;
  const profile = await users.o.appArmor.load({ vmId: plan.id, spec: plan.spec, vmDir: dir, diskPaths: plan.diskPaths, qemuBinary: q.qemuBinary, accel: q.accel, ...(q.firmwareCode ? { firmwareCode: q.firmwareCode } : {}) });
  return grants.withProfile(profile);
}

/**
 * Moves a just-spawned QEMU into the cgroup `key` (the VM's id; a migration
 * target beside its source on one host gets its own), removed again when that
 * process exits.
 */
export async function placeInCgroup(cg: VmCgroups | undefined, key: string, spec: VmSpec, accel: Accel, pid: number, exited: Promise<unknown>): Promise<void> {
  if (!cg) return;
  await cg.place(key, pid, cgroupLimits(spec, accel));
  void exited.then(() => cg.remove(key));
}

/** Sockets and the pidfile of an earlier run (QEMU refuses to bind over a stale socket file). */
async function removeStale(files: RuntimeFiles, dir: string): Promise<void> {
  const stale = [files.qmpSocket, files.agentSocket, files.serialSocket, files.vncSocket, files.pidFile, migrationSocket(dir, 'out'), migrationSocket(dir, 'in')];
  await Promise.all(stale.map((f) => rm(f, { force: true })));
}
