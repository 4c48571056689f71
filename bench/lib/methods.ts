/**
 * One cold start per call: issue the command, time until it returns and until the
 * guest's ready line shows up in its serial log, then stop the VM (untimed).
 */
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { cli, cliOk, show, type Daemon } from './polyvisor.js';
import { alive, run, sleep, stopPid, type RunResult } from './proc.js';
import { spawnRaw, type RawCommand } from './raw-qemu.js';
import { waitForText } from './serial.js';
import { domainPid, virsh } from './libvirt.js';

export interface Sample {
  /** Command issued → ready line seen on the serial log. */
  readyMs: number;
  /** Command issued → command returned. */
  returnedMs: number;
  /** Command issued → the serial log file was created (QEMU opening its chardevs; libvirt opens it just before exec). */
  logCreatedMs: number;
}

const BOOT_TIMEOUT_MS = 120_000;

/** Times `command` against the appearance of `needle` in `log`; `command` resolves at its return time. */
async function timeBoot(log: string, needle: string, command: () => Promise<number>): Promise<Sample> {
  let failure: unknown = null;
  const ready = waitForText(log, needle, {
    timeoutMs: BOOT_TIMEOUT_MS,
    check: () => {
      if (failure !== null) throw failure;
    },
  });
  const t0 = performance.now();
  const returned = command().catch((err: unknown) => {
    failure = err;
    return Number.NaN;
  });
  const [seen, returnedAt] = await Promise.all([ready, returned]);
  if (failure !== null) throw failure;
  return { readyMs: seen.readyAt - t0, returnedMs: returnedAt - t0, logCreatedMs: seen.createdAt - t0 };
}

function checked(what: string, r: RunResult): number {
  const at = performance.now();
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return at;
}

async function waitGone(pid: number, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`${what} (PID ${pid}) still runs 30 s after it was stopped`);
    await sleep(10);
  }
}

export interface PolyvisorVm {
  daemon: Daemon;
  name: string;
  serialLog: string;
}

/** Called with the running guest's QEMU PID, after the timing and before the VM is stopped. */
export type OnRunning = (qemuPid: number) => void;

/** A: `polyvisor vm start NAME` through the CLI; then `vm kill NAME`. */
export async function polyvisorColdStart(vm: PolyvisorVm, needle: string, onRunning?: OnRunning): Promise<Sample> {
  const sample = await timeBoot(vm.serialLog, needle, async () => checked('polyvisor vm start', await cli(vm.daemon, 'vm', 'start', vm.name)));
  const pid = (await show(vm.daemon, vm.name)).runtime?.pid;
  if (pid === undefined) throw new Error(`vm show ${vm.name} reports no runtime PID while the guest runs`);
  onRunning?.(pid);
  await cliOk(vm.daemon, 'vm', 'kill', vm.name);
  await waitGone(pid, 'QEMU after vm kill');
  return sample;
}

/** B: the daemon's own QEMU argv, per-VM paths moved to `dir`; then SIGKILL by PID. */
export async function rawColdStart(cmd: RawCommand, dir: string, serialLog: string, needle: string): Promise<Sample> {
  for (const f of readdirSync(dir)) rmSync(path.join(dir, f), { force: true, recursive: true });
  const qemu = { pid: 0 };
  try {
    return await timeBoot(serialLog, needle, async () => {
      const started = await spawnRaw(cmd, dir);
      qemu.pid = started.pid;
      return started.returnedAt;
    });
  } finally {
    if (qemu.pid > 0) await stopPid(qemu.pid, 'SIGKILL');
  }
}

/** C: `virsh start NAME` of a defined domain; then `virsh destroy NAME`. */
export async function libvirtColdStart(name: string, serialLog: string, needle: string, onRunning?: OnRunning): Promise<Sample> {
  rmSync(serialLog, { force: true });
  try {
    const sample = await timeBoot(serialLog, needle, async () => checked('virsh start', await run('virsh', ['-c', 'qemu:///system', 'start', name], BOOT_TIMEOUT_MS)));
    const pid = domainPid(name);
    if (pid !== null) onRunning?.(pid);
    return sample;
  } finally {
    await virsh('destroy', name).catch(() => undefined);
  }
}
