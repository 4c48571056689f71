/**
 * The target end of a same-host live migration: QEMU started from the same
 * LaunchPlan (so the same argv, the same device model) plus `-incoming
 * defer`, with its sockets and pidfile in `<dir>/incoming/` (migrate-files.ts),
 * capabilities matching the source, then `migrate-incoming` on a unix socket.
 * Any failure kills it again and removes incoming/.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { QmpClient } from '../../qmp/index.js';
import { fail, isPolyvisorError, openAddressGate, PolyvisorError, sleep, timeoutSignal, type AddressGate, type Logger } from '../../shared/index.js';
import type { Accel, LaunchPlan, VmInstance } from '../driver.js';
import type { IncomingMigration, IncomingOptions, NbdMirror } from '../migratable.js';
import { buildQemuArgv, type OvmfFiles } from './argv.js';
import { findOvmf } from './firmware.js';
import { QemuInstance } from './instance.js';
import { commitIncomingFiles, incomingFiles, incomingSocket, makeIncomingDir } from './migrate-files.js';
import { migrationCapabilities, migrationParameters } from './migrate-params.js';
import { waitMigration } from './migration.js';
import { confineVm, FRESH_QEMU_QMP_TIMEOUT_MS, placeInCgroup } from './launch.js';
import type { VmUsers } from './vm-user.js';
import type { VmFileGrants } from './vm-files-grant.js';
import { QEMU_LOG } from './files.js';
import { logTail, startQemu, type ExitStatus } from './spawn-detached.js';
import type { VmCgroups } from './cgroups.js';
import { startNbdExports, stopNbdExports } from './migrate-nbd.js';
import { addTlsCreds, TLS_OBJECT_ID } from './migrate-tls.js';
import { readPidFile, terminate } from './process.js';

export interface IncomingContext {
  qemuBinary: string;
  logger: Logger;
  cgroups?: VmCgroups;
  ovmf?: readonly OvmfFiles[];
  users?: VmUsers;
}

export async function prepareIncoming(
  ctx: IncomingContext,
  plan: LaunchPlan,
  o: IncomingOptions,
  signal: AbortSignal,
): Promise<IncomingMigration> {
  const dir = path.resolve(plan.dir);
  const log = ctx.logger.child({ vm: plan.spec.name, id: plan.id, role: 'migration-target' });
  const incDir = await makeIncomingDir(dir);
  const files = incomingFiles(dir, incDir);
  const firmware = plan.spec.boot.firmware === 'uefi' ? await findOvmf(ctx.ovmf, plan.spec.boot.secureBoot === true) : undefined;
  const { restoreFrom: _unused, ...cold } = plan;
  const argv = [...buildQemuArgv(cold, { accel: o.accel, files, ...(firmware ? { firmware } : {}) }), ...(o.paused ? ['-S'] : []), '-incoming', 'defer'];
  let pid: number | undefined;
  let qmp: QmpClient | undefined;
  const gates: AddressGate[] = [];
  const abort = async (): Promise<void> => {
    for (const g of gates) await g.destroy();
    qmp?.close();
    pid ??= await readPidFile(files.pidFile);
    if (pid !== undefined) await terminate(pid, plan.id, timeoutSignal(15_000), 1_000).catch((err: unknown) => log.warn({ err, pid }, 'could not stop the migration target'));
    await rm(incDir, { recursive: true, force: true });
  };
  try {
    if (ctx.users && o.tuning.postcopy) await checkUnprivilegedPostcopy();
    const confined = ctx.users ? await confineVm(ctx.users, plan, dir, { qemuBinary: ctx.qemuBinary, accel: o.accel, firmwareCode: firmware?.code }) : undefined;
    const q = await startQemu({
      ...(confined ? { user: confined.id } : {}),
      binary: ctx.qemuBinary, argv, qmpSocket: files.qmpSocket, logFile: path.join(dir, QEMU_LOG), signal,
      socketTimeoutMs: 30_000, qmpTimeoutMs: FRESH_QEMU_QMP_TIMEOUT_MS,
      onPid: async (p, exited) => {
        pid = p;
        await placeInCgroup(ctx.cgroups, `${plan.id}-in`, plan.spec, o.accel, p, exited);
      },
    });
    qmp = q.qmp;
    await qmp.execute('migrate-set-capabilities', { capabilities: migrationCapabilities(o.tuning, 'target') }, { signal });
    if (o.tls) await addTlsCreds(qmp, o.tls, 'server', signal);
    const params = { ...migrationParameters(o.tuning, 'target'), ...(o.tls ? { 'tls-creds': TLS_OBJECT_ID } : {}) };
    if (Object.keys(params).length) await qmp.execute('migrate-set-parameters', params, { signal });
    // With allowFrom, QEMU listens on unix sockets here and gates on the TCP addresses let only the source's address through (audit defect 4).
    const gated = o.listen !== undefined && (o.allowFrom?.length ?? 0) > 0;
    const nbdSocket = path.join(incDir, 'nbd.sock');
    const nbd = o.nbd?.disks.length ? await startNbdExports(qmp, o.nbd, o.nbd.disks, o.tls !== undefined, signal, gated ? nbdSocket : undefined) : undefined;
    if (gated && o.nbd?.disks.length) gates.push(await openAddressGate({ listen: o.nbd, allow: o.allowFrom!, target: nbdSocket, logger: log, what: 'NBD exports' }));
    const uri = o.listen ? `tcp:${o.listen.host}:${o.listen.port}` : `unix:${incomingSocket(incDir)}`;
    await qmp.execute('migrate-incoming', { uri: gated ? `unix:${incomingSocket(incDir)}` : uri }, { signal });
    if (gated) gates.push(await openAddressGate({ listen: o.listen!, allow: o.allowFrom!, target: incomingSocket(incDir), logger: log, what: 'migration stream' }));
    log.info({ pid, uri, nbd: nbd?.map((n) => n.disk), allowFrom: gated ? o.allowFrom : undefined }, 'migration target waiting');
    return new Target({ plan: { ...plan, dir }, incDir, pid: q.pid, exited: q.exited, qmp, uri, accel: o.accel, log, abort, gates, ...(nbd ? { nbd } : {}), ...(confined ? { grants: confined } : {}) });
  } catch (err) {
    await abort();
    throw isPolyvisorError(err) && err.code !== 'QMP_FAILED' && err.code !== 'QMP_DISCONNECTED'
      ? err
      : new PolyvisorError('MIGRATION_FAILED', `preparing the migration target failed: ${(err as Error).message}`, { cause: err, details: { side: 'target' } });
  }
}

/**
 * Post-copy makes the target QEMU serve page faults with userfaultfd. QEMU 7.2
 * asks the system call for it, which the kernel grants an unprivileged process
 * only with vm.unprivileged_userfaultfd = 1 (Debian's default is 0; QEMU 8.1+
 * can use /dev/userfaultfd instead): say so before QEMU answers "Postcopy is
 * not supported".
 */
async function checkUnprivilegedPostcopy(): Promise<void> {
  const v = (await readFile('/proc/sys/vm/unprivileged_userfaultfd', 'utf8').catch(() => '0')).trim();
  if (v !== '1') {
    fail('MIGRATION_INCOMPATIBLE', 'post-copy needs userfaultfd on the target, which a QEMU running as its own user (qemuUser: per-vm) gets only when the kernel allows it to unprivileged processes (vm.unprivileged_userfaultfd is 0 here)', {
      hint: 'Move without post-copy (pre-copy with auto-converge), or set sysctl vm.unprivileged_userfaultfd=1 on the target host, or run its daemon with qemuUser: root.',
      details: { side: 'target', setting: 'vm.unprivileged_userfaultfd' },
    });
  }
}

interface TargetInit {
  plan: LaunchPlan;
  incDir: string;
  pid: number;
  exited: Promise<ExitStatus>;
  qmp: QmpClient;
  uri: string;
  accel: Accel;
  log: Logger;
  abort: () => Promise<void>;
  nbd?: NbdMirror[];
  grants?: VmFileGrants;
  /** Address gates in front of the unix listeners (closed at commit: the stream has ended). */
  gates: AddressGate[];
}

class Target implements IncomingMigration {
  readonly pid: number;
  readonly uri: string;
  readonly nbd?: readonly NbdMirror[];
  private state: 'waiting' | 'committed' | 'aborted' = 'waiting';

  constructor(private readonly t: TargetInit) {
    this.pid = t.pid;
    this.uri = t.uri;
    if (t.nbd) this.nbd = t.nbd;
  }

  async waitLoaded(signal: AbortSignal): Promise<void> {
    try {
      await waitMigration(this.t.qmp, { signal, failCode: 'MIGRATION_FAILED', what: 'the incoming migration on the target', intervalMs: 100 });
    } catch (err) {
      if (isPolyvisorError(err, 'QMP_DISCONNECTED')) {
        // QEMU 7.2 exits when loading the incoming state fails: its exit status and its log's last lines say why.
        const status = await Promise.race([this.t.exited, sleep(2_000).then(() => undefined)]);
        const how = status ? (status.signal ? ` (signal ${status.signal})` : ` (status ${status.code})`) : '';
        const tail = (await logTail(path.join(this.t.plan.dir, QEMU_LOG), 3)).replace(/\n/g, ' | ');
        this.t.log.warn({ pid: this.pid, exit: status, qemuLog: tail }, 'the migration target QEMU exited during the migration');
        throw new PolyvisorError('MIGRATION_FAILED', `the migration target QEMU (pid ${this.pid}) exited during the migration${how}${tail ? `: ${tail}` : ''}`, { cause: err, details: { side: 'target' } });
      }
      throw err;
    }
  }

  async commit(signal: AbortSignal): Promise<VmInstance> {
    if (this.state !== 'waiting') throw new Error(`commit of a migration target that is ${this.state}`);
    const { status } = await this.t.qmp.execute<{ status: string }>('query-status', undefined, { signal });
    if (status !== 'running' && status !== 'paused') {
      fail('MIGRATION_FAILED', `the migration target is "${status}" after loading the VM state`, { details: { side: 'target' } });
    }
    if (this.nbd) await stopNbdExports(this.t.qmp, this.nbd.map((n) => n.disk), signal);
    for (const g of this.t.gates) await g.close();
    const files = await commitIncomingFiles(this.t.plan.dir, this.t.incDir);
    this.state = 'committed';
    const info = { pid: this.pid, accel: this.t.accel, startedAt: new Date().toISOString(), qemuVersion: this.t.qmp.version.text };
    this.t.log.info({ pid: this.pid }, 'migration target now owns the VM');
    const inst = new QemuInstance({ plan: this.t.plan, files, pid: this.pid, qmp: this.t.qmp, info, logger: this.t.log, exited: this.t.exited, ...(this.t.grants ? { grants: this.t.grants } : {}) });
    inst.setClockSoon('moved here');
    return inst;
  }

  async abort(): Promise<void> {
    if (this.state !== 'waiting') return;
    this.state = 'aborted';
    await this.t.abort();
  }
}
