/**
 * The QEMU driver: implements drivers/driver.ts `Bootable` with real QEMU
 * processes. Only daemon/ constructs it (createQemuDriver); everything else
 * sees the interfaces.
 */
import { rm } from 'node:fs/promises';
import { PolyvisorError, silentLogger, type Logger } from '../../shared/index.js';
import type { Accel, AccelProbe, AdoptResult, Bootable, LaunchPlan, RuntimeFiles, VmInstance } from '../driver.js';
import type { Migratable } from '../migratable.js';
import { probeAccel, rememberKvmFailure } from './accel.js';
import { adopt } from './adopt.js';
import type { OvmfFiles } from './argv.js';
import { runtimeFiles } from './files.js';
import { launch } from './launch.js';
import { VmCgroups } from './cgroups.js';
import { prepareIncoming } from './migrate-incoming.js';
import { hostFactsProbe } from './migrate-host-facts.js';
import { makeMigrationTls } from './migrate-tls.js';
import { cancelOutgoing, discardIncoming } from './migrate-recover.js';
import type { VmUsers } from './vm-user.js';

export interface QemuDriverOptions {
  /** Default "qemu-system-x86_64" (looked up on PATH). */
  qemuBinary?: string;
  /** Where the accelerator probe result is cached; no cache when undefined. */
  cacheDir?: string;
  /** The config's `accel`: auto probes KVM and falls back to TCG. */
  accelOverride?: 'auto' | Accel;
  logger?: Logger;
  /** OVMF code/vars pairs to look for (default: Debian's ovmf package). */
  ovmf?: readonly OvmfFiles[];
  /** Where the cgroup hierarchy is mounted (default /sys/fs/cgroup); false: no per-VM cgroups. */
  cgroupRoot?: string | false;
  /** Each VM's QEMU as its own unprivileged user (qemuUser: per-vm, docs/security.md); as the daemon's user when undefined. */
  users?: VmUsers;
}

export interface QemuDriver extends Bootable, Migratable {
  /** The accelerator a VM with this spec setting would get (probing once if needed). */
  resolveAccel(wanted: 'auto' | Accel, signal: AbortSignal): Promise<Accel>;
}

export function createQemuDriver(o: QemuDriverOptions = {}): QemuDriver {
  const qemuBinary = o.qemuBinary ?? 'qemu-system-x86_64';
  const logger = o.logger ?? silentLogger;
  const cgroups = o.cgroupRoot === false ? undefined : new VmCgroups(o.cgroupRoot, logger);
  let probe: Promise<AccelProbe> | undefined;

  const probeOnce = (signal: AbortSignal): Promise<AccelProbe> => {
    probe ??= probeAccel({ qemuBinary, override: o.accelOverride ?? 'auto', signal, logger, ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}) });
    probe.catch(() => (probe = undefined)); // a failed or cancelled probe is retried next time
    return probe;
  };

  const resolveAccel = async (wanted: 'auto' | Accel, signal: AbortSignal): Promise<Accel> => {
    if (wanted === 'tcg') return 'tcg';
    const p = await probeOnce(signal);
    if (wanted === 'kvm' && p.accel !== 'kvm') {
      throw new PolyvisorError('ACCEL_UNAVAILABLE', `the VM asks for KVM, but this host runs TCG only: ${p.reason}`);
    }
    return p.accel;
  };

  // The runtime guard beside the probe (accel.ts): with accel auto, a KVM internal error in any guest moves later starts to TCG.
  const onKvmInternalError = (vm: string, why: string): void => {
    if ((o.accelOverride ?? 'auto') !== 'auto') return;
    const next = rememberKvmFailure({ qemuBinary, cacheDir: o.cacheDir, vm, why, logger });
    probe = next;
    next.catch(() => (probe = undefined));
  };

  return {
    name: 'qemu',
    files: (dir: string): RuntimeFiles => runtimeFiles(dir),
    probeAccel: probeOnce,
    resolveAccel,
    async start(plan: LaunchPlan, signal: AbortSignal): Promise<VmInstance> {
      const accel = await resolveAccel(plan.spec.machine.accel, signal);
      const inst = await launch({ qemuBinary, logger, accel, onKvmInternalError, ...(cgroups ? { cgroups } : {}), ...(o.ovmf ? { ovmf: o.ovmf } : {}), ...(o.users ? { users: o.users } : {}) }, plan, signal);
      if (plan.restoreFrom !== undefined) {
        await rm(plan.restoreFrom, { force: true });
        inst.setClockSoon('resumed from disk');
      }
      return inst;
    },
    adopt: (plan: LaunchPlan, signal: AbortSignal): Promise<AdoptResult> => adopt(plan, signal, logger, o.users),
    prepareIncoming: (plan, io, signal) => prepareIncoming({ qemuBinary, logger, ...(cgroups ? { cgroups } : {}), ...(o.ovmf ? { ovmf: o.ovmf } : {}), ...(o.users ? { users: o.users } : {}) }, plan, io, signal),
    hostFacts: hostFactsProbe(qemuBinary, (signal) => resolveAccel('auto', signal)),
    makeMigrationTls,
    discardIncoming,
    cancelOutgoing: (dir: string) => cancelOutgoing(dir, logger),
  };
}
