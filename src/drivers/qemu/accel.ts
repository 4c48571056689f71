/**
 * Choosing the accelerator by running a guest, not by the presence of
 * /dev/kvm: on nested hosts /dev/kvm exists yet KVM guests crawl (a Linux
 * guest printed nothing in 30 s). A real-mode-only probe is NOT enough: on
 * the project's build machine (nested, Debian 12, QEMU 7.2) a boot sector
 * that only writes to the serial port succeeded under KVM in 3.7 s, because
 * what is slow there is firmware I/O and, above all, faulting in guest RAM.
 * So the probe guest also enters protected mode, writes 64 MiB and enters long
 * mode. Measured there: under KVM SeaBIOS alone took 3.7-5.5 s and the whole
 * probe 14.3 s (run with a 20 s deadline), so the real probe stops at its 5 s
 * deadline ("still in firmware and real mode") and picks TCG: 5.05 s once,
 * then read from the cache (< 10 ms). Under TCG the probe guest finishes in
 * 0.2-0.45 s; with working KVM it is well under a second. The result is cached
 * per QEMU version and kernel release.
 */
import { access, constants, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { anySignal, isPolyvisorError, run, runChecked, silentLogger, writeFileAtomic, type Logger } from '../../shared/index.js';
import type { Accel, AccelProbe } from '../driver.js';
import { PROBE_DONE, PROBE_STAGES, probeBootSector } from './probe-image.js';
import { opts } from './qemu-opts.js';

export const PROBE_TIMEOUT_MS = 5_000;
/**
 * Part of the cache key: a result cached by an older probe guest is probed again. Revision 2 added the
 * locked compare-and-swap on a page table (stage C): on a nested host of this project's kind the older
 * probe passed under KVM and Linux guests then stopped with "KVM internal error ... emulation failure".
 */
export const PROBE_REVISION = 2;
export const ACCEL_CACHE_FILE = 'accel-probe.json';

export interface ProbeRun {
  ok: boolean;
  /** Everything the probe guest printed on its serial port. */
  output: string;
  ms: number;
  /** Why it failed: the stage it was stuck in, or QEMU's error. */
  failure?: string;
}

/** Boots the probe boot sector under `accel`; ok when it printed every stage within the timeout. */
export async function runProbeGuest(o: { qemuBinary: string; accel: Accel; timeoutMs?: number; signal?: AbortSignal }): Promise<ProbeRun> {
  const timeoutMs = o.timeoutMs ?? PROBE_TIMEOUT_MS;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pv-probe-'));
  const started = Date.now();
  let output = '';
  const done = new AbortController();
  try {
    const img = path.join(dir, 'probe.img');
    await writeFile(img, probeBootSector());
    const args = [
      '-accel', o.accel, '-machine', 'pc', '-m', '128', '-nodefaults', '-no-user-config', '-display', 'none',
      '-serial', 'stdio', '-drive', opts(undefined, [['file', img], ['format', 'raw'], ['if', 'ide']]),
    ];
    const signal = o.signal ? anySignal([done.signal, o.signal]) : done.signal;
    let kvmError = '';
    try {
      const r = await run(o.qemuBinary, args, {
        timeoutMs, signal, missingCode: 'QEMU_MISSING',
        onStdout: (c) => {
          output += c;
          if (output.includes(PROBE_DONE)) done.abort();
        },
        // QEMU stops the vCPUs (it does not exit) on a KVM internal error and dumps the registers: no need to wait out the deadline.
        onStderr: (c) => {
          const m = /KVM internal error[^\n]*/.exec(c);
          if (m && !kvmError) {
            kvmError = m[0];
            done.abort();
          }
        },
      });
      const tail = r.stderr.trim().split('\n').slice(-2).join(' ');
      return { ok: false, output, ms: Date.now() - started, failure: `QEMU exited with ${r.code ?? r.signal}: ${tail}` };
    } catch (err) {
      const ms = Date.now() - started;
      if (done.signal.aborted && output.includes(PROBE_DONE)) return { ok: true, output, ms };
      if (kvmError) return { ok: false, output, ms, failure: `${kvmError} during ${stuckStage(output)}` };
      if (isPolyvisorError(err, 'TIMEOUT')) {
        return { ok: false, output, ms, failure: `the probe guest was still in ${stuckStage(output)} after ${(timeoutMs / 1000).toFixed(0)} s` };
      }
      throw err;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function stuckStage(output: string): string {
  let stage: string = PROBE_STAGES[0][1];
  for (const [i, [marker]] of PROBE_STAGES.entries()) {
    if (output.includes(marker)) stage = PROBE_STAGES[i + 1]?.[1] ?? 'its last stage';
  }
  return stage;
}

export interface ProbeAccelOptions {
  qemuBinary: string;
  /** Where the result is cached (accel-probe.json); no caching when undefined. */
  cacheDir?: string;
  /** The config's `accel`: kvm/tcg skip the probe. */
  override?: 'auto' | Accel;
  signal?: AbortSignal;
  logger?: Logger;
  /** For tests. */
  kvmDevice?: string;
  timeoutMs?: number;
}

interface CacheFile {
  key: string;
  probedAt: string;
  probeMs: number;
  probe: AccelProbe;
}

export async function probeAccel(o: ProbeAccelOptions): Promise<AccelProbe> {
  const log = o.logger ?? silentLogger;
  if (o.override === 'kvm') return { accel: 'kvm', reason: 'accel: kvm is set in the config (not probed)', kvmTried: false };
  if (o.override === 'tcg') return { accel: 'tcg', reason: 'accel: tcg is set in the config', kvmTried: false };
  const dev = o.kvmDevice ?? '/dev/kvm';
  try {
    await access(dev, constants.R_OK | constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? `${dev} missing (no KVM kernel module, or no hardware virtualization)` : `no permission to open ${dev} (${code})`;
    return { accel: 'tcg', reason, kvmTried: false };
  }
  const version = await qemuVersion(o.qemuBinary, o.signal);
  const key = cacheKey(version);
  const cacheFile = o.cacheDir === undefined ? undefined : path.join(o.cacheDir, ACCEL_CACHE_FILE);
  const cached = cacheFile ? await readCache(cacheFile, key) : undefined;
  if (cached) return { ...cached.probe, reason: `${cached.probe.reason} (probed ${cached.probedAt})` };

  const r = await runProbeGuest({ qemuBinary: o.qemuBinary, accel: 'kvm', ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}), ...(o.signal ? { signal: o.signal } : {}) });
  const probe: AccelProbe = r.ok
    ? { accel: 'kvm', reason: `KVM works (probe guest reached 64-bit mode in ${r.ms} ms)`, kvmTried: true }
    : { accel: 'tcg', reason: `KVM does not work: ${r.failure ?? 'no output'} (nested virtualization?); using TCG`, kvmTried: true };
  log.info({ probe, ms: r.ms, key }, 'accelerator probed');
  if (cacheFile) await writeCache(cacheFile, { key, probedAt: new Date().toISOString(), probeMs: r.ms, probe }, log);
  return probe;
}

/**
 * The runtime guard beside the probe: a guest's vCPUs stopped with a KVM
 * internal error, so this host's KVM cannot be trusted whatever the probe
 * said. The answer "TCG, because …" replaces the cached probe (same key), so
 * later starts, and the next daemon, use TCG; removing the cache file probes
 * again. Returns that answer.
 */
export async function rememberKvmFailure(o: { qemuBinary: string; cacheDir?: string | undefined; vm: string; why: string; logger?: Logger }): Promise<AccelProbe> {
  const log = o.logger ?? silentLogger;
  const cacheFile = o.cacheDir === undefined ? undefined : path.join(o.cacheDir, ACCEL_CACHE_FILE);
  const at = new Date().toISOString();
  const probe: AccelProbe = {
    accel: 'tcg', kvmTried: true,
    reason: `KVM stopped VM ${o.vm} with an internal error at ${at}; using TCG${cacheFile ? ` (remove ${cacheFile} to probe KVM again)` : ''}`,
  };
  log.error({ vm: o.vm, why: o.why }, 'KVM failed at run time: later starts use TCG');
  if (cacheFile) {
    const version = await qemuVersion(o.qemuBinary).catch(() => undefined);
    if (version !== undefined) {
      await writeCache(cacheFile, { key: cacheKey(version), probedAt: at, probeMs: 0, probe }, log);
    }
  }
  return probe;
}

/** "7.2.22" from `qemu-system-x86_64 --version`. */
export async function qemuVersion(qemuBinary: string, signal?: AbortSignal): Promise<string> {
  const r = await runChecked(qemuBinary, ['--version'], {
    timeoutMs: 10_000, missingCode: 'QEMU_MISSING', failCode: 'QEMU_START_FAILED', ...(signal ? { signal } : {}),
  });
  return /version\s+(\S+)/.exec(r.stdout)?.[1] ?? r.stdout.split('\n')[0]!.trim();
}

/** What a cached answer is valid for: this QEMU, this kernel, this probe guest. */
function cacheKey(qemuVersion: string): string {
  return `${qemuVersion}|${os.release()}|probe-${PROBE_REVISION}`;
}

async function writeCache(file: string, body: CacheFile, log: Logger): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(body, null, 2)}\n`).catch((err: unknown) => log.warn({ err }, 'could not cache the accelerator answer'));
}

async function readCache(file: string, key: string): Promise<CacheFile | undefined> {
  try {
    const c = JSON.parse(await readFile(file, 'utf8')) as CacheFile;
    return c.key === key && (c.probe.accel === 'kvm' || c.probe.accel === 'tcg') ? c : undefined;
  } catch {
    return undefined;
  }
}
