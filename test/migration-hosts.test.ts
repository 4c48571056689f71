/**
 * Host-to-host moves between two real daemons (127.0.0.1 and 127.0.0.2, own
 * state directories and SQLite stores), real QEMU 7.2 TCG. Every live move
 * checks the guest with memtest: heartbeat going on in the target's process,
 * bad=0. RAM 262084Ki (QEMU 7.2 TCG dirty-bitmap bug, docs/migration.md).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { addTlsCreds, makeMigrationTls, TLS_OBJECT_ID } from '../src/drivers/qemu/migrate-tls.js';
import { QmpClient } from '../src/qmp/index.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MigrationClient, PlatformClient, request, type MigrateRequest, type MigrationResultView } from '../src/client/index.js';
import { ROOT, killQemusUnder, processesUnder, startDaemon, vmDirsIn, type TestDaemon } from './helpers/daemon.js';
import { expectIntact, lastHb, waitHeartbeat } from './helpers/memtest.js';
import { removeAllVms } from './helpers/isolate.js';
import { limit } from './helpers/limits.js';
import { guestShell } from './helpers/shell.js';
import { READY, guestSpec, waitForLine, waitForState } from './helpers/vm.js';

const MEM = '262084Ki';
/** The guest with a non-shared 32 MiB disk, as the disk-moving tests use it. */
const WITH_DISK = { disks: [{ name: 'data', size: '32Mi' }] };
let a: TestDaemon;
let b: TestDaemon;
let migA: MigrationClient;
let migB: MigrationClient;
let toB: NonNullable<MigrateRequest['target']>;
let toA: NonNullable<MigrateRequest['target']>;
/** b runs with test-only settings (delays): the next test gets a plain b again. */
let bSpecial = false;
const measured: Array<Record<string, unknown>> = [];

/** A token of the peer role: what a source needs on its target (receive VMs, nothing else). */
async function peerToken(d: TestDaemon, name: string): Promise<string> {
  return (await new PlatformClient({ endpoint: { socketPath: d.socket } }).createToken(name, 'peer')).token;
}

let tokens = 0;
let aSpecial = false;
async function startA(env?: NodeJS.ProcessEnv): Promise<void> {
  a = await startDaemon({ extraArgs: ['--host-name', 'host-a'], ...(a ? { stateDir: a.stateDir } : {}), ...(env ? { env } : {}) });
  aSpecial = env !== undefined;
  migA = new MigrationClient({ endpoint: { socketPath: a.socket } });
  toA = { url: a.url, token: await peerToken(a, `from-b${++tokens}`) };
}

async function startB(extra: string[] = [], env?: NodeJS.ProcessEnv): Promise<void> {
  b = await startDaemon({ extraArgs: ['--listen', '127.0.0.2:0', '--host-name', 'host-b', ...extra], ...(b ? { stateDir: b.stateDir } : {}), ...(env ? { env } : {}) });
  bSpecial = env !== undefined || extra.length > 0;
  migB = new MigrationClient({ endpoint: { socketPath: b.socket } });
  toB = { url: b.url, token: await peerToken(b, `from-a${++tokens}`) };
}

beforeAll(async () => {
  await startA();
  await startB();
  expect(b.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
});

// Every test starts with both daemons up, plain, and no VM on either: a test that failed halfway
// (a daemon left killed, a VM left behind) costs that test alone.
beforeEach(async () => {
  if (!a.alive() || aSpecial) {
    if (a.alive()) await a.stop();
    await startA();
  }
  if (!b.alive() || bSpecial) {
    if (b.alive()) await b.stop();
    await startB();
  }
});

afterEach(async () => {
  for (const d of [a, b]) await removeAllVms(d);
});

afterAll(async () => {
  console.log(`host-to-host migration numbers:\n${measured.map((m) => JSON.stringify(m)).join('\n')}`);
  if (process.env['PV_MIGRATION_DEBUG']) console.log(`${a.log().split('\n').filter((l) => /migrat/.test(l)).join('\n')}\n---\n${b.log().split('\n').filter((l) => /migrat/.test(l)).join('\n')}`);
  await a?.stop();
  await b?.stop();
  killQemusUnder(a.stateDir);
  killQemusUnder(b.stateDir);
});

/** Boots the test guest on `d` with memtest running; returns its last heartbeat. */
async function boot(d: TestDaemon, name: string, memtest: string, extra: Parameters<typeof guestSpec>[1] = {}): Promise<number> {
  await d.client.createVm(guestSpec(name, { memory: MEM, ...extra }, `pv.memtest=${memtest}`));
  await d.client.action(name, 'start');
  await waitForLine(d.client, name, READY);
  await waitHeartbeat(d.client, name, 1);
  return lastHb(await d.client.serialLog(name, 4 * 1024 * 1024));
}

const vmDirs = (d: TestDaemon): string[] => vmDirsIn(d.stateDir);

/** The VM lives on `to` only: row, process, files; nothing of it is left on `from`. */
async function expectMoved(name: string, from: TestDaemon, to: TestDaemon, r: MigrationResultView, state = 'running'): Promise<void> {
  await expect(from.client.getVm(name)).rejects.toMatchObject({ code: 'VM_NOT_FOUND' });
  expect(processesUnder(from.stateDir)).not.toContain(r.sourcePid);
  expect(vmDirs(from)).toEqual([]);
  const v = await to.client.getVm(name);
  expect(v.state).toBe(state);
  expect(v.runtime!.pid).toBe(r.targetPid);
  expect(processesUnder(to.stateDir)).toContain(r.targetPid);
  expect(readdirSync(v.files.dir).filter((n) => n.startsWith('incoming-') || n.startsWith('migration-'))).toEqual([]);
}

async function waitPhase(mig: MigrationClient, name: string, phase: string, timeoutMs = limit('operation')): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await mig.status(name).catch(() => undefined);
    if (s?.phase === phase && (phase !== 'transferring' || (s.progress?.transferredBytes ?? 0) > 8 * 1024 ** 2)) return;
    if (Date.now() > deadline) throw new Error(`migration of ${name} never reached ${phase} within ${timeoutMs} ms (last: ${JSON.stringify(s)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits (bounded) until `cond` holds, running `step` before each look; the error names what was awaited. */
async function until(what: string, cond: () => boolean, timeoutMs = limit('state'), step?: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await step?.();
    if (cond()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Nothing of an aborted incoming move is left on the target: no row, no directory, no process. */
async function expectTargetClean(d: TestDaemon, name: string): Promise<void> {
  await expect(d.client.getVm(name)).rejects.toMatchObject({ code: 'VM_NOT_FOUND' });
  await until('the target removing what the move had made', () => !vmDirs(d).length && !processesUnder(d.stateDir).length).catch(() => undefined);
  expect(vmDirs(d)).toEqual([]);
  expect(processesUnder(d.stateDir)).toEqual([]);
}

/** Boots a guest with a 32 MiB non-shared disk and fills it (pass 0 of the writer), 8 MiB of random data kept in guest RAM. */
async function bootFlood(name: string): Promise<void> {
  await boot(a, name, '128:0', WITH_DISK);
  await guestShell(a.client, name, `dd if=/dev/urandom of=/tmp/blk bs=1M count=8 2>/dev/null; ${FLOOD_PASS('0')} echo filled`, limit('shell', 3));
}

/**
 * Passes 1, 2… of the writer, flat out, in the background until /tmp/stop exists. After its first whole pass it
 * prints FLOOD-PASSES-1, a text the command line itself (echoed on the console) does not hold.
 */
const startFloodCommand = (): string =>
  `(p=1; while :; do ${FLOOD_PASS('$p', '[ -e /tmp/stop ] && break 2;')} p=$((p+1)); [ $p -eq 2 ] && echo FLOOD-PASSES-$((p-1)); done; echo "$p $i" > /tmp/flood.done) & true`;

async function startFlood(d: TestDaemon, name: string): Promise<void> {
  await guestShell(d.client, name, startFloodCommand());
}

/**
 * Runs a command in the guest's serial shell and returns once the shell has started it (its BEGIN marker came
 * back), without waiting for the end: during a move the rest of the answer may come from the target.
 */
async function startInGuest(d: TestDaemon, name: string, command: string): Promise<void> {
  const tag = `pvs${Date.now().toString(36)}`;
  const ws = d.client.openConsole(name);
  let out = '';
  ws.on('message', (c: Buffer) => (out += c.toString()));
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  ws.send(`x=${tag}; echo "BEGIN-$x"; ${command}; echo "END-$x"\n`);
  try {
    await until(`the guest's shell starting ${JSON.stringify(command.slice(0, 40))}`, () => out.includes(`BEGIN-${tag}`), limit('shell'));
  } finally {
    ws.close();
  }
}

/**
 * Stops the writer and checks, in the guest on `d`, that every block of the disk holds the slot of the last pass
 * that wrote it (read past the page cache): no write the guest completed on the source was lost by the move.
 */
async function expectNoWriteLost(d: TestDaemon, name: string): Promise<void> {
  // The writer leaves its last pass and block in /tmp/flood.done when it sees /tmp/stop.
  const state = await guestShell(d.client, name, 'touch /tmp/stop; n=0; while [ ! -s /tmp/flood.done ] && [ $n -lt 60 ]; do sleep 1; n=$((n+1)); done; echo "FLOOD-STOPPED $(cat /tmp/flood.done 2>/dev/null)"', limit('shell', 3));
  const m = /FLOOD-STOPPED (\d+) (\d+)/.exec(state);
  if (!m) throw new Error(`the disk writer in ${name} left no state after /tmp/stop:\n${state}`);
  const [, p, i] = m;
  expect(Number(p)).toBeGreaterThan(1); // the writer ran through the move
  const verdict = await guestShell(d.client, name, `p=${p}; i=${i}; k=0; while [ $k -lt 8 ]; do eval "s$k=$(dd if=/tmp/blk bs=1M skip=$k count=1 2>/dev/null | md5sum | cut -c1-32)"; k=$((k+1)); done; ` +
    'bad=0; j=0; while [ $j -lt 32 ]; do if [ $j -lt $i ]; then q=$p; else q=$((p-1)); fi; want=$(eval echo \\$s$(((j+q)%8))); ' +
    'got=$(dd if=/dev/vda bs=1M skip=$j count=1 iflag=direct 2>/dev/null | md5sum | cut -c1-32); [ "$want" = "$got" ] || bad=$((bad+1)); j=$((j+1)); done; echo "VERIFY bad=$bad"', limit('shell', 3));
  expect(verdict).toMatch(/VERIFY bad=0\b/);
}

/** Runs `f` with a busy loop on the other core (the guest's vCPU takes one): both cores busy. */
async function withHog<T>(f: () => Promise<T>): Promise<T> {
  const hog = spawn(process.execPath, ['-e', 'const end = Date.now() + 600000; while (Date.now() < end) {}'], { stdio: 'ignore' });
  try {
    return await f();
  } finally {
    hog.kill('SIGKILL');
  }
}

/** Waits for an async move's operation to end and returns its result (the error when it failed). */
async function finished(d: TestDaemon, id: string): Promise<MigrationResultView> {
  const ops = new PlatformClient({ endpoint: { socketPath: d.socket } });
  const end = await ops.waitOperation(id, Math.ceil(limit('operation', 2) / 1000));
  expect(end.status, JSON.stringify(end.error)).toBe('succeeded');
  return end.result as MigrationResultView;
}

/** One pass of the disk writer: block j (0–31) gets slot (j+PASS)%8 of /tmp/blk; `check` runs before each write. */
const FLOOD_PASS = (pass: string, check = ''): string =>
  `i=0; while [ $i -lt 32 ]; do ${check} dd if=/tmp/blk of=/dev/vda bs=1M count=1 skip=$(((i+${pass})%8)) seek=$i oflag=direct 2>/dev/null; i=$((i+1)); done;`;

/** md5 of the guest's first `mib` MiB of /dev/vda, read past the page cache. */
async function diskSum(d: TestDaemon, name: string, mib: number): Promise<string | undefined> {
  const out = await guestShell(d.client, name, `sync; echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda bs=1M count=${mib} 2>/dev/null | md5sum`, limit('shell', 2));
  // memtest heartbeats may interleave with the shell's output on the serial console.
  return out.match(/\b[0-9a-f]{32}\b/)?.[0];
}

describe('live migration between two daemons', () => {
  it('refuses a target without enough memory (MIGRATION_INCOMPATIBLE), and the VM keeps running', async () => {
    await boot(a, 'h-small', '128:0');
    const small = await startDaemon({ extraArgs: ['--listen', '127.0.0.3:0', '--host-name', 'host-c'], env: { POLYVISOR_MIGRATION_MEMORY_RESERVE_MIB: String(16 * 1024 * 1024) } });
    try {
      const pid = (await a.client.getVm('h-small')).runtime!.pid;
      const err = await migA.migrate('h-small', { target: { url: small.url, token: await peerToken(small, 'from-a') } }).then(() => ({ code: 'none', message: '', details: [] }), (e: unknown) => e as { code: string; message: string; details: Array<{ what: string }> });
      expect(err).toMatchObject({ code: 'MIGRATION_INCOMPATIBLE' });
      expect(err.message).toMatch(/memory: the VM needs .* available/);
      expect(err.details.map((x) => x.what)).toEqual(['memory']);
      const v = await a.client.getVm('h-small');
      expect([v.state, v.runtime!.pid]).toEqual(['running', pid]);
      await expectTargetClean(small, 'h-small');
    } finally {
      await small.stop();
      killQemusUnder(small.stateDir);
    }
  });

  it('idle guest: moves to the other daemon, which owns it; heartbeat goes on there with bad=0', async () => {
    const hb0 = await boot(a, 'h-idle', '128:0');
    const r = await migA.migrate('h-idle', { target: toB });
    measured.push({ case: 'host-to-host idle', totalMs: r.stats.totalTimeMs, downtimeMs: r.stats.downtimeMs, handoverMs: r.handoverMs, commitMs: r.commitMs, wallMs: r.wallMs });
    expect(r).toMatchObject({ mode: 'live', target: { host: 'host-b' }, state: 'running' });
    expect(r.stats.downtimeMs).toBeGreaterThan(0);
    await expectMoved('h-idle', a, b, r);
    // Encrypted without asking (audit defect 4): the target set up TLS for the stream.
    expect(b.log()).toMatch(/"vm":"h-idle"[^\n]*"tls":true[^\n]*incoming migration prepared/);
    await expectIntact(b.client, 'h-idle', hb0);
    // The target drives the guest now.
    expect((await b.client.action('h-idle', 'pause')).state).toBe('paused');
    expect((await b.client.action('h-idle', 'resume')).state).toBe('running');
    // A QEMU that arrived encrypted keeps the move's TLS parameter: a plain same-host move and a save must still work.
    expect((await migB.migrate('h-idle', {})).state).toBe('running');
    expect((await b.client.action('h-idle', 'suspend')).state).toBe('suspended');
    expect((await b.client.action('h-idle', 'resume')).state).toBe('running');
    await expectIntact(b.client, 'h-idle', hb0);
  });

  it('a paused VM, with TLS on the stream (per-migration CA, both ends verified): arrives paused, resumes intact', async () => {
    const hb0 = await boot(b, 'h-tls', '128:0');
    expect((await b.client.action('h-tls', 'pause')).state).toBe('paused');
    const r = await migB.migrate('h-tls', { target: toA, tls: true });
    measured.push({ case: 'host-to-host paused, TLS', totalMs: r.stats.totalTimeMs, downtimeMs: r.stats.downtimeMs, handoverMs: r.handoverMs, commitMs: r.commitMs, wallMs: r.wallMs });
    expect(r.state).toBe('paused');
    await expectMoved('h-tls', b, a, r, 'paused');
    const resumedAt = lastHb(await a.client.serialLog('h-tls', 4 * 1024 * 1024));
    expect(resumedAt).toBe(0); // nothing ran on the target yet
    expect((await a.client.action('h-tls', 'resume')).state).toBe('running');
    expect(a.log()).toMatch(/"tls":true[^\n]*incoming migration prepared/);
    await expectIntact(a.client, 'h-tls', hb0);
  });

  it('non-shared disk written during the move (NBD + blockdev-mirror), as an API operation with progress', async () => {
    const hb0 = await boot(a, 'h-disk', '128:0', WITH_DISK);
    // 8 MiB of random data in guest RAM, written to the disk 1 MiB per second while the VM moves.
    await guestShell(a.client, 'h-disk', 'dd if=/dev/urandom of=/tmp/src bs=1M count=8 2>/dev/null; md5sum /tmp/src');
    await guestShell(a.client, 'h-disk', '(i=0; while [ $i -lt 8 ]; do dd if=/tmp/src of=/dev/vda bs=1M count=1 skip=$i seek=$i conv=fsync 2>/dev/null; i=$((i+1)); sleep 1; done; echo DISKWRITER-DONE) & true');
    const op = await migA.migrateAsync('h-disk', { target: toB });
    expect(op).toMatchObject({ kind: 'vm.migrate', status: 'running', vm: 'h-disk' });
    const ops = new PlatformClient({ endpoint: { socketPath: a.socket } });
    const details: Array<Record<string, unknown>> = [];
    let done: Awaited<ReturnType<typeof ops.getOperation>>;
    for (;;) {
      done = await ops.getOperation(op.id);
      if (done.detail) details.push(done.detail);
      if (done.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    const r = done.result as MigrationResultView;
    measured.push({ case: 'host-to-host, 32 MiB disk mirrored while written', totalMs: r.stats.totalTimeMs, downtimeMs: r.stats.downtimeMs, handoverMs: r.handoverMs, commitMs: r.commitMs, wallMs: r.wallMs, mirrors: r.stats.mirrors });
    expect(r.copiedDisks).toEqual(['data']);
    expect(r.stats.mirrors).toMatchObject({ disks: 1 });
    expect(['background', 'write-blocking']).toContain(r.stats.mirrors!.mode);
    expect(details.some((x) => typeof x['transferredBytes'] === 'number' && typeof x['iteration'] === 'number')).toBe(true);
    await expectMoved('h-disk', a, b, r);
    const v = await b.client.getVm('h-disk');
    expect(existsSync(path.join(v.files.dir, 'disks'))).toBe(true);
    await waitForLine(b.client, 'h-disk', 'DISKWRITER-DONE');
    const sums = await guestShell(b.client, 'h-disk', 'sync; echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda bs=1M count=8 2>/dev/null | md5sum; md5sum < /tmp/src', limit('shell', 2));
    // memtest heartbeats may interleave with the shell's output on the serial console.
    const [disk, src] = sums.match(/\b[0-9a-f]{32}\b/g) ?? [];
    expect(disk).toMatch(/^[0-9a-f]{32}$/);
    expect(disk).toBe(src);
    await expectIntact(b.client, 'h-disk', hb0);
  });

  it('a guest writing its non-shared disk flat out through the switch-over (both cores busy): whatever the mirror has left is copied with the vCPUs stopped, no write is lost', async () => {
    // A test-only hold keeps the move between "every mirror in sync" and the RAM stream until the test opens it
    // (a file: no race with the host's speed); the writer
    // starts flat out then (about 45 MB/s here), so the mirror copies the writes as they come and, at the
    // switch-over, whatever it has left (QEMU 7.2 keeps a ready mirror close behind: 0 or one 4 MiB chunk was
    // measured, its speed cap applies to the first sync only) is copied with the vCPUs stopped. The wait for
    // a mirror that is not in sync at that moment is proven with a scripted monitor in disk-mirrors.test.ts.
    const gate = path.join(mkdtempSync('/tmp/pv-gate-'), 'open');
    await a.stop();
    await startA({ POLYVISOR_TEST_DELAYS: `host-migrate:mirrors-ready=file:${gate}` });
    await bootFlood('h-behind');
    const op = await migA.migrateAsync('h-behind', { target: toB, diskMirror: 'background', diskBandwidthMiBps: 4 });
    let synced = false;
    await until('every disk mirror in sync', () => synced, limit('operation'), async () => {
      const s = await migA.status('h-behind').catch(() => undefined);
      synced = !!s?.disks && s.disks.disks > 0 && s.disks.readyDisks === s.disks.disks;
    });
    const tSynced = Date.now();
    let passOneMs = 0;
    const r = await withHog(async () => {
      try {
        // Started without waiting for the shell's whole answer: it may come from the target. The move goes on only
        // once the gate is open, so the writer's first whole pass is seen on the source (it printed FLOOD-PASSES-1).
        await startInGuest(a, 'h-behind', startFloodCommand());
        let log = '';
        await until('the disk writer finishing its first pass on the source', () => log.includes('FLOOD-PASSES-1'), limit('shell', 2), async () => {
          log = await a.client.serialLog('h-behind', 1024 * 1024).catch(() => log);
        });
        passOneMs = Date.now() - tSynced;
        expect((await migA.status('h-behind'))?.phase).toBe('mirroring'); // still held: the mirror falls behind from here
      } finally {
        writeFileSync(gate, ''); // the move goes on (or, after a failure above, ends instead of holding its daemon)
      }
      return finished(a, op.id);
    });
    rmSync(path.dirname(gate), { recursive: true, force: true });
    measured.push({ case: 'host-to-host, flat-out writer through the switch-over', passOneMs, totalMs: r.stats.totalTimeMs, downtimeMs: r.stats.downtimeMs, wallMs: r.wallMs, mirrors: r.stats.mirrors });
    expect(r.copiedDisks).toEqual(['data']);
    expect(r.stats.mirrors).toMatchObject({ disks: 1, mode: 'background', switchedToActive: 0 });
    expect(r.stats.mirrors!.behindBytes).toBeGreaterThanOrEqual(0);
    expect(r.stats.mirrors!.convergeMs).toBeGreaterThanOrEqual(0);
    if (r.stats.mirrors!.behindBytes > 0) expect(a.log()).toMatch(/disk mirrors were behind at the switch-over and converged with the vCPUs stopped/);
    await expectMoved('h-behind', a, b, r);
    await expectNoWriteLost(b, 'h-behind');
  });

  it('auto mode: a background mirror that cannot keep up with the writer goes write-blocking, and the move completes with no write lost', async () => {
    await bootFlood('h-active');
    await startFlood(a, 'h-active');
    // A 2 MiB/s background copy never catches a flat-out writer: after 2 s without gain the mirror restarts in
    // write-blocking mode, where each guest write completes on both sides.
    const r = await withHog(() => migA.migrate('h-active', { target: toB, diskMirror: 'auto', mirrorStallSeconds: 2, diskBandwidthMiBps: 2 }));
    measured.push({ case: 'host-to-host, auto mirror switched to write-blocking under a flat-out writer', totalMs: r.stats.totalTimeMs, downtimeMs: r.stats.downtimeMs, wallMs: r.wallMs, mirrors: r.stats.mirrors });
    expect(r.stats.mirrors).toMatchObject({ disks: 1, mode: 'write-blocking' });
    expect(r.stats.mirrors!.switchedToActive).toBeGreaterThanOrEqual(1);
    expect(a.log()).toMatch(/restarting it in write-blocking \(active\) mode/);
    await expectMoved('h-active', a, b, r);
    await expectNoWriteLost(b, 'h-active');
    // The move's mirror figures reach the source's metrics.
    const { body: text } = await request({ socketPath: a.socket }, 'GET', '/metrics', undefined, { timeoutMs: limit('daemon') });
    expect(text).toMatch(/polyvisor_migration_disk_mirrors_total\{mode="write-blocking"\} [1-9]/);
    expect(text).toMatch(/polyvisor_migration_disk_mirror_switches_total [1-9]/);
  });

  it('cancel halfway (operation cancel): the source keeps running, the target is left with nothing', async () => {
    const hb0 = await boot(b, 'h-cancel', '128:0', WITH_DISK);
    const before = await b.client.getVm('h-cancel');
    // In plain text on request (a trusted link): the target is told no TLS.
    const op = await migB.migrateAsync('h-cancel', { target: toA, bandwidthMiBps: 16, tls: false });
    await waitPhase(migB, 'h-cancel', 'transferring');
    expect(processesUnder(a.stateDir).length).toBe(1); // the incoming QEMU
    const ops = new PlatformClient({ endpoint: { socketPath: b.socket } });
    await ops.cancelOperation(op.id);
    const end = await ops.waitOperation(op.id, Math.ceil(limit('operation') / 1000));
    expect(end.status).toBe('cancelled');
    expect(end.error?.code).toBe('ABORTED');
    expect(a.log()).toMatch(/"vm":"h-cancel"[^\n]*"tls":false[^\n]*incoming migration prepared/);
    const v = await b.client.getVm('h-cancel');
    expect([v.state, v.runtime!.pid]).toEqual(['running', before.runtime!.pid]);
    await expectTargetClean(a, 'h-cancel');
    await expectIntact(b.client, 'h-cancel', hb0);
  });

  it('target daemon killed halfway: the source keeps running; the restarted target removes what it had', async () => {
    const hb0 = await boot(b, 'h-tkill', '128:0', WITH_DISK);
    const before = await b.client.getVm('h-tkill');
    const p = migB.migrate('h-tkill', { target: toA, bandwidthMiBps: 16 }).then(() => ({ code: 'none', message: '' }), (e: unknown) => e as { code: string; message: string });
    await waitPhase(migB, 'h-tkill', 'transferring');
    await a.kill9();
    const err = await p;
    expect(err).toMatchObject({ code: 'MIGRATION_FAILED' });
    expect(err.message).toMatch(/target daemon .* stopped answering|keeps running on host-b/);
    const v = await b.client.getVm('h-tkill');
    expect([v.state, v.runtime!.pid]).toEqual(['running', before.runtime!.pid]);
    await expectIntact(b.client, 'h-tkill', hb0);
    await startA();
    await expectTargetClean(a, 'h-tkill');
    expect(a.log()).toMatch(/never committed/);
  });
});

describe('a hostile target daemon', () => {
  it('answering the move with an exec: stream address (QEMU would run it through a shell): refused, nothing runs, the VM keeps running', async () => {
    const marker = path.join(mkdtempSync('/tmp/pv-evil-'), 'pwned');
    // A fake target that accepts the move and names a command as its stream address (audit defect 1).
    const seen: string[] = [];
    const evil = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url}`);
        const id = (body ? (JSON.parse(body) as { migrationId?: string }).migrationId : undefined) ?? req.url?.split('/')[4] ?? '';
        res.setHeader('content-type', 'application/json');
        if (req.method === 'POST' && req.url === '/v1/migrations/incoming') {
          res.end(JSON.stringify({ migrationId: id, host: 'evil', uri: `exec:touch ${marker}`, pid: 1, nbd: [] }));
        } else res.end(JSON.stringify({ migrationId: id, outcome: 'aborted', vm: 'h-evil', mode: 'live', phase: 'waiting' }));
      });
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.4', r));
    try {
      await boot(a, 'h-evil', '128:0');
      const pid = (await a.client.getVm('h-evil')).runtime!.pid;
      const url = `http://127.0.0.4:${(evil.address() as net.AddressInfo).port}`;
      const err = await migA.migrate('h-evil', { target: { url, token: 'evil-token-123' } }).then(() => undefined, (e: unknown) => e as { code: string; message: string });
      expect(err?.code).toBe('MIGRATION_FAILED');
      expect(err?.message).toMatch(/stream address that is not tcp:ADDRESS:PORT/);
      expect(seen).toContain('POST /v1/migrations/incoming');
      await new Promise((r) => setTimeout(r, 1_000)); // an exec: would have run by now
      expect(existsSync(marker)).toBe(false);
      const v = await a.client.getVm('h-evil');
      expect([v.state, v.runtime!.pid]).toEqual(['running', pid]);
    } finally {
      evil.close();
      rmSync(path.dirname(marker), { recursive: true, force: true });
    }
  });
});

describe('a hostile source daemon', () => {
  it('asking the target to copy over a disk given by path (audit defect 3): refused, the host file untouched; an operator token cannot receive VMs', async () => {
    const dir = mkdtempSync('/tmp/pv-victim-');
    const victim = path.join(dir, 'precious.raw');
    writeFileSync(victim, Buffer.alloc(1024 ** 2, 'precious'));
    const qemuVersion = /version (\d+\.\d+\.\d+)/.exec(spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).stdout)![1]!;
    const req = {
      migrationId: `mig-evil${++tokens}-0123abcd`, mode: 'offline', source: { host: 'evil', qemuVersion, accel: 'tcg', cpuFlags: [] },
      vm: { id: randomUUID(), name: 'evil-in', spec: { name: 'evil-in', memory: '64Mi', disks: [{ name: 'data', path: victim, format: 'raw' }] }, state: 'stopped' },
      disks: [{ name: 'data', format: 'raw', virtualSize: 1024 ** 2, fileBytes: 1024 ** 2, copy: true }], features: [], timeoutSeconds: 60,
    };
    try {
      const peer = new MigrationClient({ endpoint: { url: b.url }, token: toB.token });
      await expect(peer.prepareIncoming(req)).rejects.toMatchObject({ code: 'INVALID_BODY', message: expect.stringMatching(/disk data is given by path \(shared storage\): the target never creates or overwrites it/) });
      expect(readFileSync(victim).equals(Buffer.alloc(1024 ** 2, 'precious'))).toBe(true);
      await expect(b.client.getVm('evil-in')).rejects.toMatchObject({ code: 'VM_NOT_FOUND' });
      expect(vmDirs(b)).toEqual([]);
      // Receiving a VM is the peer role's alone: an operator of the target may not.
      const op = (await new PlatformClient({ endpoint: { socketPath: b.socket } }).createToken(`op${++tokens}`, 'operator')).token;
      await expect(new MigrationClient({ endpoint: { url: b.url }, token: op }).prepareIncoming({ ...req, disks: [{ ...req.disks[0], copy: false }] })).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect(readFileSync(victim).equals(Buffer.alloc(1024 ** 2, 'precious'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a live move\'s stream and NBD listeners accept only the address the move was set up from (audit defect 4): another address is cut before QEMU sees it', async () => {
    const qemuVersion = /version (\d+\.\d+\.\d+)/.exec(spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).stdout)![1]!;
    const vmId = randomUUID();
    const migrationId = `mig-gate${++tokens}-0123abcd`;
    const req = {
      migrationId, mode: 'live', source: { host: 'src', qemuVersion, accel: 'tcg', cpuFlags: [] },
      vm: { id: vmId, name: 'gate-in', spec: { name: 'gate-in', memory: '64Mi', disks: [{ name: 'data', size: '16Mi' }] }, state: 'running' },
      disks: [{ name: 'data', format: 'qcow2', virtualSize: 16 * 1024 ** 2, fileBytes: 196_616, copy: true }], features: [], timeoutSeconds: 60,
      tuning: { downtimeLimitMs: 300, autoConverge: true, postcopy: false, multifdChannels: 0, xbzrleCacheBytes: 0 },
    };
    const peer = new MigrationClient({ endpoint: { url: b.url }, token: toB.token });
    // The request comes from 127.0.0.1 (b.url is on loopback): 127.0.0.1 and ::1 may connect; 127.0.0.2 stands for another machine.
    const ready = await peer.prepareIncoming<{ uri: string; nbd: Array<{ host: string; port: number }> }>(req);
    try {
      const m = /^tcp:([\d.]+):(\d+)$/.exec(ready.uri)!;
      expect(m).not.toBeNull();
      const ports = [Number(m[2]), ...ready.nbd.map((n) => n.port)];
      expect(ports).toHaveLength(2);
      /** Connects from `local`; resolves whether the connection was still open after 500 ms. */
      const stays = (port: number, local: string) => new Promise<boolean>((resolve) => {
        const c = net.connect({ host: m[1], port, localAddress: local });
        let closed = false;
        c.on('close', () => { closed = true; });
        c.on('error', () => { closed = true; });
        setTimeout(() => { resolve(!closed); c.destroy(); }, 500);
      });
      for (const port of ports) expect(await stays(port, '127.0.0.2')).toBe(false);
      expect(b.log()).toMatch(/refused a connection from an address the move was not set up for/);
      // NBD first: a stream connection that ends makes the target give the move up (and close its exports).
      for (const port of [...ports].reverse()) expect(await stays(port, '127.0.0.1')).toBe(true);
    } finally {
      await peer.abortIncoming(migrationId, { name: 'gate-in', id: vmId }).catch(() => undefined);
    }
  });
});

describe('source daemon killed halfway', () => {
  it('on restart the source cancels the stream and keeps the VM; the target removes its side by itself', async () => {
    const hb0 = await boot(b, 'h-skill', '128:0', WITH_DISK);
    const before = await b.client.getVm('h-skill');
    void migB.migrate('h-skill', { target: toA, bandwidthMiBps: 16 }).catch(() => undefined);
    await waitPhase(migB, 'h-skill', 'transferring');
    expect(processesUnder(a.stateDir).length).toBe(1);
    await b.kill9();
    await startB();
    const v = await b.client.getVm('h-skill');
    expect([v.state, v.runtime!.pid]).toEqual(['running', before.runtime!.pid]);
    expect(b.log()).toMatch(/cancelled a host-to-host move interrupted by a daemon restart/);
    expect(existsSync(path.join(v.files.dir, 'migration-out.json'))).toBe(false);
    await expectTargetClean(a, 'h-skill');
    await expectIntact(b.client, 'h-skill', hb0);
  });

  it('after the stream completed, before the commit: the restarted source commits, the target owns the VM, the source copy goes', async () => {
    // A test-only delay holds the source between the completed stream and the commit; the daemon is killed there.
    await b.stop();
    await startB([], { POLYVISOR_TEST_DELAYS: 'host-migrate:before-commit=30000' });
    const hb0 = await boot(b, 'h-commit', '128:0', WITH_DISK);
    const sourcePid = (await b.client.getVm('h-commit')).runtime!.pid;
    void migB.migrate('h-commit', { target: toA }).catch(() => undefined);
    await waitPhase(migB, 'h-commit', 'switching-over');
    await b.kill9();
    expect(processesUnder(b.stateDir)).toContain(sourcePid); // the source QEMU lives on, its guest stopped
    await startB();
    // In the background after re-adoption, the source settles with the target: commit, then its copy goes.
    const deadline = Date.now() + limit('operation');
    while ((await b.client.getVm('h-commit').then(() => true, () => false)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    await expect(b.client.getVm('h-commit')).rejects.toMatchObject({ code: 'VM_NOT_FOUND' });
    expect(b.log()).toMatch(/settling it with the target/);
    // The settle step logs its outcome after it removed the source copy.
    await until('the settle step logging its outcome', () => /the target took the VM over/.test(b.log()));
    expect((await a.client.getVm('h-commit')).state).toBe('running');
    expect(processesUnder(b.stateDir)).not.toContain(sourcePid);
    expect(vmDirs(b)).toEqual([]);
    await expectIntact(a.client, 'h-commit', hb0);
    // The VM moves on from the target like any other.
    const back = await migA.migrate('h-commit', { target: toB });
    await expectMoved('h-commit', a, b, back);
  });

  it('after the stream completed, the target gave up before the restarted source could commit: the guest resumes on the source, intact', async () => {
    // The target gives up the way its commit watchdog does (abortEntry), here through its abort route while the source daemon is down.
    await b.stop();
    await startB([], { POLYVISOR_TEST_DELAYS: 'host-migrate:before-commit=30000' });
    const hb0 = await boot(b, 'h-gaveup', '128:0', WITH_DISK);
    const v = await b.client.getVm('h-gaveup');
    const sourcePid = v.runtime!.pid;
    void migB.migrate('h-gaveup', { target: toA }).catch(() => undefined);
    await waitPhase(migB, 'h-gaveup', 'switching-over');
    await b.kill9();
    const marker = JSON.parse(readFileSync(path.join(v.files.dir, 'migration-out.json'), 'utf8')) as { migrationId: string };
    expect(await migA.abortIncoming(marker.migrationId, { name: 'h-gaveup', id: v.id })).toMatchObject({ outcome: 'aborted' });
    await expectTargetClean(a, 'h-gaveup');
    await startB();
    await waitForState(b.client, 'h-gaveup', 'running', limit('operation'));
    // The settle step logs its outcome, then removes the marker.
    const markerFile = path.join(v.files.dir, 'migration-out.json');
    await until('the settle step logging its outcome and removing the marker', () => /the target had given the move up/.test(b.log()) && !existsSync(markerFile));
    expect(b.log()).toMatch(/the target had given the move up: the VM runs on here/);
    expect(existsSync(markerFile)).toBe(false);
    const after = await b.client.getVm('h-gaveup');
    expect(after.runtime!.pid).toBe(sourcePid); // the same QEMU, resumed: the target never ran the guest
    await expectIntact(b.client, 'h-gaveup', hb0);
    // What the move had set up on the source process is gone: a save must not stop at pause-before-switchover.
    expect((await b.client.action('h-gaveup', 'suspend')).state).toBe('suspended');
  });
});

/** `polyvisor --socket SOCK ARGS…` with its own remotes file in `configDir`. */
function cli(socket: string, configDir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bin', 'polyvisor.js'), '--socket', socket, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, POLYVISOR_CONFIG_DIR: configDir },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('offline move', () => {
  it('CLI `vm migrate --to REMOTE` of a suspended VM with a disk: disk and save file copied; it resumes on the target, memory and disk intact', async () => {
    const hb0 = await boot(b, 'h-off', '128:0', WITH_DISK);
    await guestShell(b.client, 'h-off', 'dd if=/dev/urandom of=/dev/vda bs=1M count=4 seek=16 conv=fsync 2>/dev/null; sync');
    const sum = await diskSum(b, 'h-off', 24);
    expect(sum).toMatch(/^[0-9a-f]{32}$/);
    expect((await b.client.action('h-off', 'suspend')).state).toBe('suspended');
    const conf = mkdtempSync('/tmp/pv-remotes-');
    expect((await cli(b.socket, conf, ['remote', 'add', 'host-a', a.url, '--token', toA.token])).code).toBe(0);
    const run = await cli(b.socket, conf, ['vm', 'migrate', 'h-off', '--to', 'host-a', '--json', '--no-progress']);
    rmSync(conf, { recursive: true, force: true });
    expect(run.code, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout) as MigrationResultView;
    measured.push({ case: 'offline move, suspended 256 MiB + 32 MiB disk', wallMs: r.wallMs, bytes: r.stats.transferredBytes });
    expect(r).toMatchObject({ mode: 'offline', state: 'suspended', copiedDisks: ['data'] });
    // The files went over TLS-only NBD exports (audit defect 4; src/migration/offline-nbd.test.ts shows a plain client refused).
    expect(a.log()).toMatch(/"vm":"h-off"[^\n]*"mode":"offline"[^\n]*"tls":true[^\n]*incoming migration prepared/);
    await expect(b.client.getVm('h-off')).rejects.toMatchObject({ code: 'VM_NOT_FOUND' });
    expect(vmDirs(b)).toEqual([]);
    expect((await a.client.getVm('h-off')).state).toBe('suspended');
    expect((await a.client.action('h-off', 'resume')).state).toBe('running');
    await waitForState(a.client, 'h-off', 'running');
    await expectIntact(a.client, 'h-off', hb0);
    expect(await diskSum(a, 'h-off', 24)).toBe(sum);
  });
});

describe('TLS credentials of a migration', () => {
  /** A paused QEMU (no guest) with a QMP socket; killed by PID at the end. */
  function qemu(dir: string, tag: string, incoming: boolean): { pid: number; qmp: string } {
    const qmp = path.join(dir, `${tag}.qmp`);
    const pidFile = path.join(dir, `${tag}.pid`);
    const r = spawnSync('qemu-system-x86_64', ['-machine', 'q35', '-accel', 'tcg', '-m', '32', '-nodefaults', '-display', 'none', '-S',
      '-qmp', `unix:${qmp},server=on,wait=off`, '-daemonize', '-pidfile', pidFile, ...(incoming ? ['-incoming', 'defer'] : [])], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return { pid: Number(readFileSync(pidFile, 'utf8').trim()), qmp };
  }
  const port = (): Promise<number> => new Promise((res) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => res(p));
    });
  });

  /** Sends a stream from a source using `clientDir`'s credentials to a target using `serverDir`'s; returns the source's final status. */
  async function attempt(dir: string, serverDir: string, clientDir: string): Promise<{ status: string; error: string }> {
    const t = qemu(dir, 'target', true);
    const s = qemu(dir, 'source', false);
    const [tq, sq] = [await QmpClient.connect(t.qmp), await QmpClient.connect(s.qmp)];
    try {
      const signal = AbortSignal.timeout(20_000);
      const p = await port();
      await addTlsCreds(tq, { dir: serverDir, hostname: 'polyvisor-migration-target' }, 'server', signal);
      await tq.execute('migrate-set-parameters', { 'tls-creds': TLS_OBJECT_ID });
      await tq.execute('migrate-incoming', { uri: `tcp:127.0.0.1:${p}` });
      await addTlsCreds(sq, { dir: clientDir, hostname: 'polyvisor-migration-target' }, 'client', signal);
      await sq.execute('migrate-set-parameters', { 'tls-creds': TLS_OBJECT_ID, 'tls-hostname': 'polyvisor-migration-target' });
      await sq.execute('migrate', { uri: `tcp:127.0.0.1:${p}` });
      for (;;) {
        const q = await sq.execute<{ status: string; 'error-desc'?: string }>('query-migrate');
        if (['completed', 'failed', 'cancelled'].includes(q.status)) return { status: q.status, error: q['error-desc'] ?? '' };
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      tq.close();
      sq.close();
      for (const pid of [t.pid, s.pid]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }

  it('a stream with certificates of the same per-migration CA completes; a client of another CA is refused', async () => {
    const dir = mkdtempSync('/tmp/pv-mtls-');
    try {
      const one = await makeMigrationTls(path.join(dir, 'one'), 'polyvisor-migration-target', AbortSignal.timeout(30_000));
      const two = await makeMigrationTls(path.join(dir, 'two'), 'polyvisor-migration-target', AbortSignal.timeout(30_000));
      expect(existsSync(path.join(one.dir, 'ca-key.pem'))).toBe(false);
      expect(statSync(path.join(one.dir, 'server-key.pem')).mode & 0o777).toBe(0o600);
      expect(await attempt(dir, one.dir, one.dir)).toMatchObject({ status: 'completed' });
      const refused = await attempt(dir, one.dir, two.dir);
      expect(refused.status).toBe('failed');
      expect(refused.error).toMatch(/certificate|TLS|verif|handshake/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
