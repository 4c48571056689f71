/**
 * Host-to-host moves between two real daemons (127.0.0.1 and 127.0.0.2, own
 * state directories and SQLite stores), real QEMU 7.2 TCG. Every live move
 * checks the guest with memtest: heartbeat going on in the target's process,
 * bad=0. RAM 262084Ki (QEMU 7.2 TCG dirty-bitmap bug, docs/migration.md).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { addTlsCreds, makeMigrationTls, TLS_OBJECT_ID } from '../src/drivers/qemu/migrate-tls.js';
import { QmpClient } from '../src/qmp/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationClient, PlatformClient, type MigrateRequest, type MigrationResultView } from '../src/client/index.js';
import { ROOT, killQemusUnder, processesUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { expectIntact, lastHb, waitHeartbeat } from './helpers/memtest.js';
import { guestShell } from './helpers/shell.js';
import { READY, guestSpec, waitForLine, waitForState } from './helpers/vm.js';

const MEM = '262084Ki';
let a: TestDaemon;
let b: TestDaemon;
let migA: MigrationClient;
let migB: MigrationClient;
let toB: NonNullable<MigrateRequest['target']>;
let toA: NonNullable<MigrateRequest['target']>;
const measured: Array<Record<string, unknown>> = [];

async function operatorToken(d: TestDaemon, name: string): Promise<string> {
  return (await new PlatformClient({ endpoint: { socketPath: d.socket } }).createToken(name, 'operator')).token;
}

async function startB(extra: string[] = [], env?: NodeJS.ProcessEnv): Promise<TestDaemon> {
  return startDaemon({ extraArgs: ['--listen', '127.0.0.2:0', '--host-name', 'host-b', ...extra], ...(b ? { stateDir: b.stateDir } : {}), ...(env ? { env } : {}) });
}

beforeAll(async () => {
  a = await startDaemon({ extraArgs: ['--host-name', 'host-a'] });
  b = await startB();
  migA = new MigrationClient({ endpoint: { socketPath: a.socket } });
  migB = new MigrationClient({ endpoint: { socketPath: b.socket } });
  toB = { url: b.url, token: await operatorToken(b, 'from-a') };
  toA = { url: a.url, token: await operatorToken(a, 'from-b') };
  expect(b.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
});

afterAll(async () => {
  console.log(`host-to-host migration numbers:\n${measured.map((m) => JSON.stringify(m)).join('\n')}`);
  if (process.env['PV_MIGRATION_DEBUG']) console.log(`${a.log().split('\n').filter((l) => /migrat/.test(l)).join('\n')}\n---\n${b.log().split('\n').filter((l) => /migrat/.test(l)).join('\n')}`);
  await a?.stop();
  await b?.stop();
  killQemusUnder(a.stateDir);
  killQemusUnder(b.stateDir);
});

async function boot(d: TestDaemon, name: string, memtest: string, extra: Parameters<typeof guestSpec>[1] = {}): Promise<void> {
  await d.client.createVm(guestSpec(name, { memory: MEM, ...extra }, `pv.memtest=${memtest}`));
  await d.client.action(name, 'start');
  await waitForLine(d.client, name, READY);
  await waitHeartbeat(d.client, name, 1);
}

function vmDirs(d: TestDaemon): string[] {
  const dir = path.join(d.stateDir, 'vms');
  return existsSync(dir) ? readdirSync(dir) : [];
}

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

async function waitPhase(mig: MigrationClient, name: string, phase: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await mig.status(name).catch(() => undefined);
    if (s?.phase === phase && (phase !== 'transferring' || (s.progress?.transferredBytes ?? 0) > 8 * 1024 ** 2)) return;
    if (Date.now() > deadline) throw new Error(`migration of ${name} never reached ${phase} (last: ${JSON.stringify(s)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Nothing of an aborted incoming move is left on the target: no row, no directory, no process. */
async function expectTargetClean(d: TestDaemon, name: string): Promise<void> {
  await expect(d.client.getVm(name)).rejects.toMatchObject({ code: 'VM_NOT_FOUND' });
  const deadline = Date.now() + 20_000;
  while ((vmDirs(d).length || processesUnder(d.stateDir).length) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  expect(vmDirs(d)).toEqual([]);
  expect(processesUnder(d.stateDir)).toEqual([]);
}

describe('live migration between two daemons', () => {
  it('refuses a target without enough memory (MIGRATION_INCOMPATIBLE), and the VM keeps running', async () => {
    await boot(a, 'h1', '128:0');
    const small = await startDaemon({ extraArgs: ['--listen', '127.0.0.3:0', '--host-name', 'host-c'], env: { POLYVISOR_MIGRATION_MEMORY_RESERVE_MIB: String(16 * 1024 * 1024) } });
    try {
      const pid = (await a.client.getVm('h1')).runtime!.pid;
      const err = await migA.migrate('h1', { target: { url: small.url, token: await operatorToken(small, 'from-a') } }).then(() => ({ code: 'none', message: '', details: [] }), (e: unknown) => e as { code: string; message: string; details: Array<{ what: string }> });
      expect(err).toMatchObject({ code: 'MIGRATION_INCOMPATIBLE' });
      expect(err.message).toMatch(/memory: the VM needs .* available/);
      expect(err.details.map((x) => x.what)).toEqual(['memory']);
      const v = await a.client.getVm('h1');
      expect([v.state, v.runtime!.pid]).toEqual(['running', pid]);
      await expectTargetClean(small, 'h1');
    } finally {
      await small.stop();
      killQemusUnder(small.stateDir);
    }
  });

  it('idle guest: moves to the other daemon, which owns it; heartbeat goes on there with bad=0', async () => {
    const hb0 = lastHb(await a.client.serialLog('h1', 4 * 1024 * 1024));
    const r = await migA.migrate('h1', { target: toB });
    measured.push({ case: 'host-to-host idle', totalMs: r.stats.totalTimeMs, downtimeMs: r.stats.downtimeMs, handoverMs: r.handoverMs, commitMs: r.commitMs, wallMs: r.wallMs });
    expect(r).toMatchObject({ mode: 'live', target: { host: 'host-b' }, state: 'running' });
    expect(r.stats.downtimeMs).toBeGreaterThan(0);
    await expectMoved('h1', a, b, r);
    await expectIntact(b.client, 'h1', hb0);
    // The target drives the guest now.
    expect((await b.client.action('h1', 'pause')).state).toBe('paused');
    expect((await b.client.action('h1', 'resume')).state).toBe('running');
  });

  it('back again, paused, with TLS on the stream (per-migration CA, both ends verified): arrives paused, resumes intact', async () => {
    const hb0 = lastHb(await b.client.serialLog('h1', 4 * 1024 * 1024));
    expect((await b.client.action('h1', 'pause')).state).toBe('paused');
    const r = await migB.migrate('h1', { target: toA, tls: true });
    measured.push({ case: 'host-to-host paused, TLS', totalMs: r.stats.totalTimeMs, downtimeMs: r.stats.downtimeMs, handoverMs: r.handoverMs, commitMs: r.commitMs, wallMs: r.wallMs });
    expect(r.state).toBe('paused');
    await expectMoved('h1', b, a, r, 'paused');
    expect(lastHb(await a.client.serialLog('h1', 4 * 1024 * 1024))).toBe(0); // nothing ran on the target yet
    expect((await a.client.action('h1', 'resume')).state).toBe('running');
    expect(a.log()).toMatch(/"tls":true[^\n]*incoming migration prepared/);
    await expectIntact(a.client, 'h1', hb0);
  });

  it('non-shared disk written during the move (NBD + blockdev-mirror), as an API operation with progress', async () => {
    await a.client.removeVm('h1', { force: true });
    await a.client.createVm(guestSpec('h2', { memory: MEM, disks: [{ name: 'data', size: '32Mi' }] }, 'pv.memtest=128:0'));
    await a.client.action('h2', 'start');
    await waitForLine(a.client, 'h2', READY);
    await waitHeartbeat(a.client, 'h2', 1);
    const hb0 = lastHb(await a.client.serialLog('h2', 4 * 1024 * 1024));
    // 8 MiB of random data in guest RAM, written to the disk 1 MiB per second while the VM moves.
    await guestShell(a.client, 'h2', 'dd if=/dev/urandom of=/tmp/src bs=1M count=8 2>/dev/null; md5sum /tmp/src');
    await guestShell(a.client, 'h2', '(i=0; while [ $i -lt 8 ]; do dd if=/tmp/src of=/dev/vda bs=1M count=1 skip=$i seek=$i conv=fsync 2>/dev/null; i=$((i+1)); sleep 1; done; echo DISKWRITER-DONE) & true');
    const op = await migA.migrateAsync('h2', { target: toB });
    expect(op).toMatchObject({ kind: 'vm.migrate', status: 'running', vm: 'h2' });
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
    measured.push({ case: 'host-to-host, 32 MiB disk mirrored while written', totalMs: r.stats.totalTimeMs, downtimeMs: r.stats.downtimeMs, handoverMs: r.handoverMs, commitMs: r.commitMs, wallMs: r.wallMs });
    expect(r.copiedDisks).toEqual(['data']);
    expect(details.some((x) => typeof x['transferredBytes'] === 'number' && typeof x['iteration'] === 'number')).toBe(true);
    await expectMoved('h2', a, b, r);
    const v = await b.client.getVm('h2');
    expect(existsSync(path.join(v.files.dir, 'disks'))).toBe(true);
    await waitForLine(b.client, 'h2', 'DISKWRITER-DONE', { timeoutMs: 60_000 });
    const sums = await guestShell(b.client, 'h2', 'sync; echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda bs=1M count=8 2>/dev/null | md5sum; md5sum < /tmp/src', 60_000);
    // memtest heartbeats may interleave with the shell's output on the serial console.
    const [disk, src] = sums.match(/\b[0-9a-f]{32}\b/g) ?? [];
    expect(disk).toMatch(/^[0-9a-f]{32}$/);
    expect(disk).toBe(src);
    await expectIntact(b.client, 'h2', hb0);
  });

  it('cancel halfway (operation cancel): the source keeps running, the target is left with nothing', async () => {
    const before = await b.client.getVm('h2');
    const hb0 = lastHb(await b.client.serialLog('h2', 4 * 1024 * 1024));
    const op = await migB.migrateAsync('h2', { target: toA, bandwidthMiBps: 16 });
    await waitPhase(migB, 'h2', 'transferring');
    expect(processesUnder(a.stateDir).length).toBe(1); // the incoming QEMU
    const ops = new PlatformClient({ endpoint: { socketPath: b.socket } });
    await ops.cancelOperation(op.id);
    const end = await ops.waitOperation(op.id, 60);
    expect(end.status).toBe('cancelled');
    expect(end.error?.code).toBe('ABORTED');
    const v = await b.client.getVm('h2');
    expect([v.state, v.runtime!.pid]).toEqual(['running', before.runtime!.pid]);
    await expectTargetClean(a, 'h2');
    await expectIntact(b.client, 'h2', hb0);
  });

  it('target daemon killed halfway: the source keeps running; the restarted target removes what it had', async () => {
    const before = await b.client.getVm('h2');
    const hb0 = lastHb(await b.client.serialLog('h2', 4 * 1024 * 1024));
    const p = migB.migrate('h2', { target: toA, bandwidthMiBps: 16 }).then(() => ({ code: 'none', message: '' }), (e: unknown) => e as { code: string; message: string });
    await waitPhase(migB, 'h2', 'transferring');
    await a.kill9();
    const err = await p;
    expect(err).toMatchObject({ code: 'MIGRATION_FAILED' });
    expect(err.message).toMatch(/target daemon .* stopped answering|keeps running on host-b/);
    const v = await b.client.getVm('h2');
    expect([v.state, v.runtime!.pid]).toEqual(['running', before.runtime!.pid]);
    await expectIntact(b.client, 'h2', hb0);
    a = await startDaemon({ stateDir: a.stateDir, extraArgs: ['--host-name', 'host-a'] });
    migA = new MigrationClient({ endpoint: { socketPath: a.socket } });
    toA = { url: a.url, token: await operatorToken(a, 'from-b2') };
    await expectTargetClean(a, 'h2');
    expect(a.log()).toMatch(/never committed/);
  });
});

describe('source daemon killed halfway', () => {
  it('on restart the source cancels the stream and keeps the VM; the target removes its side by itself', async () => {
    const before = await b.client.getVm('h2');
    const hb0 = lastHb(await b.client.serialLog('h2', 4 * 1024 * 1024));
    void migB.migrate('h2', { target: toA, bandwidthMiBps: 16 }).catch(() => undefined);
    await waitPhase(migB, 'h2', 'transferring');
    expect(processesUnder(a.stateDir).length).toBe(1);
    await b.kill9();
    b = await startB();
    migB = new MigrationClient({ endpoint: { socketPath: b.socket } });
    const v = await b.client.getVm('h2');
    expect([v.state, v.runtime!.pid]).toEqual(['running', before.runtime!.pid]);
    expect(b.log()).toMatch(/cancelled a host-to-host move interrupted by a daemon restart/);
    expect(existsSync(path.join(v.files.dir, 'migration-out.json'))).toBe(false);
    await expectTargetClean(a, 'h2');
    await expectIntact(b.client, 'h2', hb0);
    toB = { url: b.url, token: await operatorToken(b, 'from-a2') };
  });

  it('after the stream completed, before the commit: the restarted source commits, the target owns the VM, the source copy goes', async () => {
    // A test-only delay holds the source between the completed stream and the commit; the daemon is killed there.
    await b.stop();
    b = await startB([], { POLYVISOR_TEST_DELAYS: 'host-migrate:before-commit=30000' });
    migB = new MigrationClient({ endpoint: { socketPath: b.socket } });
    const sourcePid = (await b.client.getVm('h2')).runtime!.pid;
    const hb0 = lastHb(await b.client.serialLog('h2', 4 * 1024 * 1024));
    void migB.migrate('h2', { target: toA }).catch(() => undefined);
    await waitPhase(migB, 'h2', 'switching-over');
    await b.kill9();
    expect(processesUnder(b.stateDir)).toContain(sourcePid); // the source QEMU lives on, its guest stopped
    b = await startB();
    migB = new MigrationClient({ endpoint: { socketPath: b.socket } });
    // In the background after re-adoption, the source settles with the target: commit, then its copy goes.
    const deadline = Date.now() + 60_000;
    while ((await b.client.getVm('h2').then(() => true, () => false)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    await expect(b.client.getVm('h2')).rejects.toMatchObject({ code: 'VM_NOT_FOUND' });
    expect(b.log()).toMatch(/settling it with the target/);
    expect(b.log()).toMatch(/the target took the VM over/);
    expect((await a.client.getVm('h2')).state).toBe('running');
    expect(processesUnder(b.stateDir)).not.toContain(sourcePid);
    expect(vmDirs(b)).toEqual([]);
    await expectIntact(a.client, 'h2', hb0);
    // back to b for the tests below
    toB = { url: b.url, token: await operatorToken(b, 'from-a3') };
    const back = await migA.migrate('h2', { target: toB });
    await expectMoved('h2', a, b, back);
  });

  it('after the stream completed, the target gave up before the restarted source could commit: the guest resumes on the source, intact', async () => {
    // The target gives up the way its commit watchdog does (abortEntry), here through its abort route while the source daemon is down.
    await b.stop();
    b = await startB([], { POLYVISOR_TEST_DELAYS: 'host-migrate:before-commit=30000' });
    migB = new MigrationClient({ endpoint: { socketPath: b.socket } });
    const v = await b.client.getVm('h2');
    const sourcePid = v.runtime!.pid;
    const hb0 = lastHb(await b.client.serialLog('h2', 4 * 1024 * 1024));
    void migB.migrate('h2', { target: toA }).catch(() => undefined);
    await waitPhase(migB, 'h2', 'switching-over');
    await b.kill9();
    const marker = JSON.parse(readFileSync(path.join(v.files.dir, 'migration-out.json'), 'utf8')) as { migrationId: string };
    expect(await migA.abortIncoming(marker.migrationId, { name: 'h2', id: v.id })).toMatchObject({ outcome: 'aborted' });
    await expectTargetClean(a, 'h2');
    b = await startB();
    migB = new MigrationClient({ endpoint: { socketPath: b.socket } });
    await waitForState(b.client, 'h2', 'running', 60_000);
    // The settle step logs its outcome, then removes the marker.
    const markerFile = path.join(v.files.dir, 'migration-out.json');
    const deadline = Date.now() + 20_000;
    while ((!/the target had given the move up/.test(b.log()) || existsSync(markerFile)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(b.log()).toMatch(/the target had given the move up: the VM runs on here/);
    expect(existsSync(markerFile)).toBe(false);
    const after = await b.client.getVm('h2');
    expect(after.runtime!.pid).toBe(sourcePid); // the same QEMU, resumed: the target never ran the guest
    await expectIntact(b.client, 'h2', hb0);
    // What the move had set up on the source process is gone: a save (the next test suspends it) must not stop at pause-before-switchover.
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
    await guestShell(b.client, 'h2', 'dd if=/dev/urandom of=/dev/vda bs=1M count=4 seek=16 conv=fsync 2>/dev/null; sync');
    const sum = (await guestShell(b.client, 'h2', 'echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda bs=1M count=24 2>/dev/null | md5sum', 60_000)).match(/\b[0-9a-f]{32}\b/)?.[0];
    expect(sum).toMatch(/^[0-9a-f]{32}$/);
    const hb0 = lastHb(await b.client.serialLog('h2', 4 * 1024 * 1024));
    expect((await b.client.action('h2', 'suspend')).state).toBe('suspended');
    const conf = mkdtempSync('/tmp/pv-remotes-');
    expect((await cli(b.socket, conf, ['remote', 'add', 'host-a', a.url, '--token', toA.token])).code).toBe(0);
    const run = await cli(b.socket, conf, ['vm', 'migrate', 'h2', '--to', 'host-a', '--json', '--no-progress']);
    rmSync(conf, { recursive: true, force: true });
    expect(run.code, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout) as MigrationResultView;
    measured.push({ case: 'offline move, suspended 256 MiB + 32 MiB disk', wallMs: r.wallMs, bytes: r.stats.transferredBytes });
    expect(r).toMatchObject({ mode: 'offline', state: 'suspended', copiedDisks: ['data'] });
    await expect(b.client.getVm('h2')).rejects.toMatchObject({ code: 'VM_NOT_FOUND' });
    expect(vmDirs(b)).toEqual([]);
    expect((await a.client.getVm('h2')).state).toBe('suspended');
    expect((await a.client.action('h2', 'resume')).state).toBe('running');
    await waitForState(a.client, 'h2', 'running');
    await expectIntact(a.client, 'h2', hb0);
    const after = (await guestShell(a.client, 'h2', 'echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda bs=1M count=24 2>/dev/null | md5sum', 60_000)).match(/\b[0-9a-f]{32}\b/)?.[0];
    expect(after).toBe(sum);
    await a.client.action('h2', 'kill');
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
