/**
 * Same-host live migration through the real daemon and real QEMU (TCG): the
 * test guest writes memory at a known rate and verifies every page; after
 * every move its heartbeat must go on in the new process with bad=0.
 * RAM is 262084Ki (not a multiple of 256 KiB) because of QEMU 7.2's TCG
 * dirty-bitmap bug (docs/migration.md); a 128Mi VM checks the refusal.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MigrationClient, type MigrateRequest, type MigrationResultView } from '../src/client/index.js';
import { ROOT, killQemusUnder, processesUnder, qemuConfined, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { expectIntact, lastHb, waitHeartbeat } from './helpers/memtest.js';
import { QmpClient } from '../src/qmp/index.js';
import { removeAllVms } from './helpers/isolate.js';
import { limit } from './helpers/limits.js';
import { READY, guestSpec, waitForLine } from './helpers/vm.js';

const MEM = '262084Ki';
/**
 * A confined QEMU (qemuUser: per-vm, the default for a root daemon) gets userfaultfd only when the kernel gives
 * it to unprivileged processes: without it the daemon refuses post-copy up front (checked on the file's daemon),
 * and the post-copy moves run on a daemon whose QEMUs run as root (qemuUser: root, the documented choice there).
 */
const POSTCOPY_REFUSED = qemuConfined() && readFileSync('/proc/sys/vm/unprivileged_userfaultfd', 'utf8').trim() === '0';
/** The environment the file's daemon (re)starts with: the post-copy block switches it to qemuUser: root. */
let daemonEnv: Record<string, string> = {};
let d: TestDaemon;
let mig: MigrationClient;
const measured: Array<{ case: string; totalMs: number; downtimeMs: number; passes: number; wallMs: number; postcopy: boolean; throttle: number }> = [];

beforeAll(async () => {
  d = await startDaemon();
  mig = new MigrationClient({ endpoint: { socketPath: d.socket } });
});
// Every test boots its own VMs on a live daemon: one that failed halfway (daemon left killed, VM left
// behind) costs that test alone.
beforeEach(async () => {
  if (!d.alive()) {
    d = await startDaemon({ stateDir: d.stateDir, env: daemonEnv });
    mig = new MigrationClient({ endpoint: { socketPath: d.socket } });
  }
});
afterEach(() => removeAllVms(d));
afterAll(async () => {
  if (process.env['PV_MIGRATION_DEBUG']) console.log(d.log().split('\n').filter((l) => /migrat/.test(l)).join('\n'));
  console.log(`migration numbers:\n${measured.map((m) => JSON.stringify(m)).join('\n')}`);
  await d?.stop();
  killQemusUnder(d.stateDir);
});

/** Boots the test guest; with a rate, memtest writes 128 MiB at that rate (0: verify only). */
async function bootWriter(name: string, rateMbps: number | undefined, memory = MEM): Promise<number> {
  await d.client.createVm(guestSpec(name, { memory }, rateMbps === undefined ? '' : `pv.memtest=128:${rateMbps}`));
  const v = await d.client.action(name, 'start');
  await waitForLine(d.client, name, READY);
  if (rateMbps !== undefined) await waitHeartbeat(d.client, name, 1);
  return v.runtime!.pid;
}

/** Migrates, then checks the new process owns the VM, the old one is gone, nothing is left over and the guest is intact. */
async function migrateAndVerify(name: string, tag: string, opts: MigrateRequest = {}): Promise<MigrationResultView> {
  const before = await d.client.getVm(name);
  const hb0 = lastHb(await d.client.serialLog(name, 4 * 1024 * 1024));
  const r = await mig.migrate(name, opts);
  measured.push({ case: tag, totalMs: r.stats.totalTimeMs, downtimeMs: r.stats.downtimeMs, passes: r.stats.iterations, wallMs: r.wallMs, postcopy: r.stats.postcopy, throttle: r.stats.cpuThrottlePercent });
  expect(r.state).toBe('running');
  expect(r.sourcePid).toBe(before.runtime!.pid);
  expect(r.targetPid).not.toBe(r.sourcePid);
  expect(r.explanation).toMatch(/downtime limit/);
  expect(r.stats.totalTimeMs).toBeGreaterThan(0);
  expect(r.stats.downtimeMs).toBeGreaterThan(0);
  const after = await d.client.getVm(name);
  expect(after.state).toBe('running');
  expect(after.runtime!.pid).toBe(r.targetPid);
  expect(processesUnder(d.stateDir)).toContain(r.targetPid);
  expect(processesUnder(d.stateDir)).not.toContain(r.sourcePid);
  expect(incomingDirs(after.files.dir)).toEqual([]);
  expect(Number(readFileSync(path.join(after.files.dir, 'qemu.pid'), 'utf8'))).toBe(r.targetPid);
  await expectIntact(d.client, name, hb0);
  // The daemon drives the new process: pause/resume go through its monitor.
  expect((await d.client.action(name, 'pause')).state).toBe('paused');
  expect((await d.client.action(name, 'resume')).state).toBe('running');
  return r;
}

describe('live migration between two QEMU processes on one host', () => {
  it('refuses a TCG guest whose RAM is a multiple of 256 KiB (QEMU < 9.0 bug), and the VM keeps running', async () => {
    const pid = await bootWriter('unsafe', undefined, '128Mi');
    const err = await mig.migrate('unsafe').catch((e: unknown) => e as { code: string; hint: string });
    expect(err).toMatchObject({ code: 'MIGRATION_UNSAFE' });
    expect((err as { hint: string }).hint).toMatch(/262084Ki|not a multiple of 256 KiB/);
    const v = await d.client.getVm('unsafe');
    expect(v.state).toBe('running');
    expect(v.runtime!.pid).toBe(pid);
  });

  it('idle guest (memtest only verifying)', async () => {
    await bootWriter('idle', 0);
    const r = await migrateAndVerify('idle', 'idle');
    expect(r.stats.downtimeMs).toBeLessThan(200);
  });

  it('guest writing 20 MB/s', async () => {
    await bootWriter('w20', 20);
    await migrateAndVerify('w20', 'write 20 MB/s');
  });

  it('CLI: `polyvisor vm migrate` draws progress on stderr and prints the result', async () => {
    await bootWriter('w20', 20);
    const before = await d.client.getVm('w20');
    const hb0 = lastHb(await d.client.serialLog('w20', 4 * 1024 * 1024));
    const r = await cli(['vm', 'migrate', 'w20', '--downtime-ms', '100', '--bandwidth', '100', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as MigrationResultView;
    expect(res.policy).toMatchObject({ downtimeLimitMs: 100, maxBandwidthBytesPerS: 100 * 1024 ** 2 });
    expect(res.sourcePid).toBe(before.runtime!.pid);
    expect(r.stderr).toMatch(/\[#*-*\] +\d+% transferring +sent \d+ MiB/);
    expect((await d.client.getVm('w20')).runtime!.pid).toBe(res.targetPid);
    await expectIntact(d.client, 'w20', hb0);
    const bad = await cli(['vm', 'migrate', 'w20', '--postcopy', 'sometimes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--postcopy takes one of/);
  });

  it('cancel halfway: the source keeps running, the target is gone, nothing is left behind', async () => {
    await bootWriter('w20-cancel', 20);
    const before = await d.client.getVm('w20-cancel');
    const hb0 = lastHb(await d.client.serialLog('w20-cancel', 4 * 1024 * 1024));
    const p = mig.migrate('w20-cancel', { bandwidthMiBps: 16 }).catch((e: unknown) => e as { code: string; message: string });
    await waitTransferring('w20-cancel');
    const target = targetPidOf(before.files.dir, before.runtime!.pid);
    expect(target).toBeDefined();
    await mig.cancel('w20-cancel');
    const err = await p;
    expect(err).toMatchObject({ code: 'ABORTED' });
    await expectRolledBack('w20-cancel', before.runtime!.pid, before.files.dir, target!);
    await expectIntact(d.client, 'w20-cancel', hb0);
    await expect(mig.status('w20-cancel')).rejects.toMatchObject({ code: 'MIGRATION_NOT_RUNNING' });
  });

  it('target killed halfway: the source keeps running and the error says what happened', async () => {
    await bootWriter('w20-tkill', 20);
    const before = await d.client.getVm('w20-tkill');
    const hb0 = lastHb(await d.client.serialLog('w20-tkill', 4 * 1024 * 1024));
    const p = mig.migrate('w20-tkill', { bandwidthMiBps: 16 }).catch((e: unknown) => e as { code: string; message: string });
    await waitTransferring('w20-tkill');
    const target = targetPidOf(before.files.dir, before.runtime!.pid);
    expect(target).toBeDefined();
    process.kill(target!, 'SIGKILL');
    const err = await p;
    expect(err).toMatchObject({ code: 'MIGRATION_FAILED' });
    expect((err as { message: string }).message).toMatch(/target QEMU \(pid \d+\) exited during the migration \(signal SIGKILL\).*keeps running on the source/);
    await expectRolledBack('w20-tkill', before.runtime!.pid, before.files.dir, target!);
    await expectIntact(d.client, 'w20-tkill', hb0);
    // …and it can still be migrated afterwards.
    await migrateAndVerify('w20-tkill', 'write 20 MB/s, after a failed attempt');
  });

  it('source daemon killed halfway: on restart the unfinished migration is rolled back, the source keeps the VM', async () => {
    await bootWriter('w20-skill', 20);
    const before = await d.client.getVm('w20-skill');
    const hb0 = lastHb(await d.client.serialLog('w20-skill', 4 * 1024 * 1024));
    const p = mig.migrate('w20-skill', { bandwidthMiBps: 16 }).catch((e: unknown) => e);
    await waitTransferring('w20-skill');
    const target = targetPidOf(before.files.dir, before.runtime!.pid);
    expect(target).toBeDefined();
    await restartDaemon(() => p);
    await expectRolledBack('w20-skill', before.runtime!.pid, before.files.dir, target!);
    await expectIntact(d.client, 'w20-skill', hb0);
  });

  it('source daemon killed halfway, migration finished while it was down: on restart the target owns the VM', async () => {
    await bootWriter('w20-done', 20);
    const before = await d.client.getVm('w20-done');
    const hb0 = lastHb(await d.client.serialLog('w20-done', 4 * 1024 * 1024));
    const p = mig.migrate('w20-done', { bandwidthMiBps: 64 }).catch((e: unknown) => e);
    await waitTransferring('w20-done');
    const target = targetPidOf(before.files.dir, before.runtime!.pid);
    expect(target).toBeDefined();
    // QEMU carries on without the daemon (64 MiB/s moves this guest in about 4 s): the test asks the
    // source QEMU itself until the stream has completed, then starts the daemon again.
    await restartDaemon(async () => {
      await p;
      await waitSourceCompleted(before.files.dir);
    });
    const v = await d.client.getVm('w20-done');
    expect(v.state).toBe('running');
    expect(v.runtime!.pid).toBe(target);
    const procs = processesUnder(d.stateDir);
    expect(procs).toContain(target);
    expect(procs).not.toContain(before.runtime!.pid);
    expect(incomingDirs(before.files.dir)).toEqual([]);
    expect(Number(readFileSync(path.join(before.files.dir, 'qemu.pid'), 'utf8'))).toBe(target);
    await expectIntact(d.client, 'w20-done', hb0);
    expect((await d.client.action('w20-done', 'pause')).state).toBe('paused');
    expect((await d.client.action('w20-done', 'resume')).state).toBe('running');
  });

  it('guest writing 200 MB/s, with the policy defaults (unlimited bandwidth, auto-converge)', async () => {
    await bootWriter('w200', 200);
    const r = await migrateAndVerify('w200', 'write 200 MB/s (default policy)');
    expect(r.policy.autoConverge).toBe(true);
    expect(r.policy.maxBandwidthBytesPerS).toBeNull();
  });

  it('a paused VM moves and stays paused; resumed, its memory is intact', async () => {
    await bootWriter('w200', 200);
    const hb0 = lastHb(await d.client.serialLog('w200', 4 * 1024 * 1024));
    expect((await d.client.action('w200', 'pause')).state).toBe('paused');
    const r = await mig.migrate('w200');
    measured.push({ case: 'paused (was writing 200 MB/s)', totalMs: r.stats.totalTimeMs, downtimeMs: r.stats.downtimeMs, passes: r.stats.iterations, wallMs: r.wallMs, postcopy: r.stats.postcopy, throttle: r.stats.cpuThrottlePercent });
    expect(r.state).toBe('paused');
    const v = await d.client.getVm('w200');
    expect(v.state).toBe('paused');
    expect(v.runtime!.pid).toBe(r.targetPid);
    expect(processesUnder(d.stateDir)).not.toContain(r.sourcePid);
    expect((await d.client.action('w200', 'resume')).state).toBe('running');
    await expectIntact(d.client, 'w200', hb0);
  });

  it.runIf(POSTCOPY_REFUSED)('confined QEMU without unprivileged userfaultfd: every post-copy mode is refused up front, and the VM keeps running', async () => {
    const pid = await bootWriter('w200', 200);
    for (const postcopy of ['after-precopy', 'auto', 'manual'] as const) {
      const err = await mig.migrate('w200', { postcopy }).catch((e: unknown) => e as { code: string; hint: string });
      expect(err).toMatchObject({ code: 'MIGRATION_INCOMPATIBLE' });
      expect((err as { hint: string }).hint).toMatch(/unprivileged_userfaultfd/);
    }
    const v = await d.client.getVm('w200');
    expect(v.state).toBe('running');
    expect(v.runtime!.pid).toBe(pid);
  });

  describe(POSTCOPY_REFUSED ? 'post-copy, on a daemon whose QEMUs run as root (a confined QEMU gets no userfaultfd here)' : 'post-copy', () => {
    beforeAll(async () => {
      if (!POSTCOPY_REFUSED) return;
      await d.stop();
      killQemusUnder(d.stateDir);
      daemonEnv = { POLYVISOR_QEMU_USER: 'root' };
      d = await startDaemon({ env: daemonEnv });
      mig = new MigrationClient({ endpoint: { socketPath: d.socket } });
    });

    it('post-copy after the first pass, guest writing 200 MB/s', async () => {
      await bootWriter('w200', 200);
      const r = await migrateAndVerify('w200', 'write 200 MB/s, post-copy', { postcopy: 'after-precopy' });
      expect(r.stats.postcopy).toBe(true);
    });

    it('post-copy "auto": switches by itself when pre-copy cannot converge (200 MB/s writer, 64 MiB/s link)', async () => {
      await bootWriter('w200', 200);
      const r = await migrateAndVerify('w200', 'write 200 MB/s, 64 MiB/s cap, post-copy auto', { postcopy: 'auto', bandwidthMiBps: 64 });
      expect(r.stats.postcopy).toBe(true);
      expect(r.policy.autoConverge).toBe(false);
      expect(r.explanation).toMatch(/switch automatically/);
    });

    it('post-copy "manual": switches when asked through the API', async () => {
      await bootWriter('w200', 200);
      const p = mig.migrate('w200', { postcopy: 'manual', bandwidthMiBps: 32 });
      await waitTransferring('w200');
      const hb0 = lastHb(await d.client.serialLog('w200', 4 * 1024 * 1024));
      expect((await mig.startPostcopy('w200')).vm).toBe('w200');
      const r = await p;
      measured.push({ case: 'write 200 MB/s, 32 MiB/s cap, post-copy on request', totalMs: r.stats.totalTimeMs, downtimeMs: r.stats.downtimeMs, passes: r.stats.iterations, wallMs: r.wallMs, postcopy: r.stats.postcopy, throttle: r.stats.cpuThrottlePercent });
      expect(r.stats.postcopy).toBe(true);
      expect((await d.client.getVm('w200')).runtime!.pid).toBe(r.targetPid);
      await expectIntact(d.client, 'w200', hb0);
      // A restarted daemon re-adopts the VM through the paths the target took over.
      await restartDaemon(async () => undefined);
      const v = await d.client.getVm('w200');
      expect(v.state).toBe('running');
      expect(v.runtime!.pid).toBe(r.targetPid);
      expect((await d.client.action('w200', 'pause')).state).toBe('paused');
      expect((await d.client.action('w200', 'resume')).state).toBe('running');
    });
  });
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bin', 'polyvisor.js'), '--socket', d.socket, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** SIGKILLs the daemon (its QEMUs live on), runs `meanwhile`, and starts a new daemon on the same state dir. */
async function restartDaemon(meanwhile: () => Promise<unknown>): Promise<void> {
  const stateDir = d.stateDir;
  await d.kill9();
  await meanwhile();
  d = await startDaemon({ stateDir, env: daemonEnv });
  mig = new MigrationClient({ endpoint: { socketPath: d.socket } });
}

/** With the daemon down: asks the VM's source QEMU (its monitor is free) until its outgoing stream completed. */
async function waitSourceCompleted(vmDir: string): Promise<void> {
  const qmp = await QmpClient.connect(path.join(vmDir, 'qmp.sock'));
  try {
    const deadline = Date.now() + limit('operation');
    for (;;) {
      const q = await qmp.execute<{ status?: string }>('query-migrate');
      if (q.status === 'completed') return;
      if (Date.now() > deadline) throw new Error(`the source QEMU's migration is ${q.status} after ${limit('operation')} ms, not completed`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    qmp.close();
  }
}

async function waitTransferring(name: string): Promise<void> {
  const timeoutMs = limit('operation');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await mig.status(name).catch(() => undefined);
    if (s?.phase === 'transferring' && (s.progress?.transferredBytes ?? 0) > 8 * 1024 ** 2) return;
    if (Date.now() > deadline) throw new Error(`migration of ${name} did not start transferring within ${timeoutMs} ms: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function incomingDirs(vmDir: string): string[] {
  return readdirSync(vmDir).filter((n) => n.startsWith('incoming'));
}

/** The live QEMU of the VM in `vmDir`, other than its current one, that runs from an incoming dir (the migration target). */
function targetPidOf(vmDir: string, sourcePid: number): number | undefined {
  return processesUnder(d.stateDir).find((pid) => {
    if (pid === sourcePid) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(path.join(vmDir, 'incoming-'));
    } catch {
      return false;
    }
  });
}

async function expectRolledBack(name: string, sourcePid: number, vmDir: string, targetPid: number): Promise<void> {
  const v = await d.client.getVm(name);
  expect(v.state).toBe('running');
  expect(v.runtime!.pid).toBe(sourcePid);
  const procs = processesUnder(d.stateDir);
  expect(procs).toContain(sourcePid);
  expect(procs).not.toContain(targetPid);
  expect(incomingDirs(vmDir)).toEqual([]);
  expect((await d.client.action(name, 'pause')).state).toBe('paused');
  expect((await d.client.action(name, 'resume')).state).toBe('running');
}

