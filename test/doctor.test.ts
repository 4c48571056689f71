/**
 * `polyvisor doctor` against a real daemon: it finds each injected problem (an
 * orphan QEMU, an orphan VM directory, a deleted disk file, a full pool on a
 * tiny tmpfs) and running the fix command it prints clears the finding.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorFindingView, DoctorReportView } from '../src/client/index.js';
import { run, runChecked } from '../src/shared/index.js';
import { killQemusUnder, startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { runCli } from './helpers/http.js';
import { removeAllVms } from './helpers/isolate.js';
import { scaled } from './helpers/limits.js';
import { guestSpec } from './helpers/vm.js';

let d: TestDaemon;
let orphan: ChildProcess | undefined;
let tmpfs: string | undefined;

beforeAll(async () => {
  d = await startDaemon();
});
// no test leaves an orphan process, a VM, or the tiny pool and its tmpfs to the next
afterEach(async () => {
  if (orphan?.pid && orphan.exitCode === null) process.kill(orphan.pid, 'SIGKILL');
  orphan = undefined;
  await removeAllVms(d);
  if (tmpfs) {
    await runCli(['--socket', d.socket, 'pool', 'rm', 'tiny']);
    await run('umount', [tmpfs], { timeoutMs: scaled(10_000) });
    tmpfs = undefined;
  }
});
afterAll(async () => {
  await d?.stop();
  killQemusUnder(d.stateDir);
});

async function doctor(): Promise<DoctorReportView> {
  const r = await runCli(['--socket', d.socket, 'doctor', '--json']);
  expect(r.stdout, r.stderr).toMatch(/^\{/);
  return JSON.parse(r.stdout) as DoctorReportView;
}

const problems = (r: DoctorReportView, check: string): DoctorFindingView[] => r.findings.filter((f) => f.check === check && f.severity !== 'ok');

/** Runs a finding's fix: polyvisor commands through the CLI against the test daemon, others directly (argv, no shell). */
async function applyFix(f: DoctorFindingView): Promise<void> {
  expect(f.fix, f.message).not.toBeNull();
  const [cmd, ...args] = f.fix!.argv;
  if (cmd === 'polyvisor') {
    const r = await runCli(['--socket', d.socket, ...args]);
    expect(r.code, r.stderr).toBe(0);
  } else {
    await runChecked(cmd!, args, { timeoutMs: scaled(15_000), failCode: 'INTERNAL' });
  }
}

describe('polyvisor doctor', () => {
  it('on a clean daemon reports versions, the accelerator, the store and the known TCG migration bug', async () => {
    const r = await doctor();
    const by = (c: string) => r.findings.find((f) => f.check === c)!;
    expect(by('qemu').severity).toBe('ok');
    expect(by('qemu').message).toMatch(/qemu-system-x86_64 \d+\.\d+/);
    expect(by('qemu-img').severity).toBe('ok');
    expect(by('accel').message).toMatch(/TCG/);
    expect(by('store')).toMatchObject({ severity: 'ok', message: expect.stringContaining('integrity_check') });
    expect(problems(r, 'orphan-process')).toEqual([]);
    expect(problems(r, 'vm-disk')).toEqual([]);
    if (/ 7\.|8\./.test(by('qemu').message)) expect(by('qemu-bug').message).toMatch(/dirty/);
    const text = await runCli(['--socket', d.socket, 'doctor']);
    expect(text.stdout).toMatch(/^polyvisor doctor on /);
  });

  it('finds an orphaned QEMU process, and `kill PID` clears it', async () => {
    const sock = path.join(d.stateDir, 'vms', 'orphan-qmp.sock');
    orphan = spawn('qemu-system-x86_64', ['-machine', 'none', '-display', 'none', '-nodefaults', '-S', '-qmp', `unix:${sock},server=on,wait=off`], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, scaled(500)));
    const found = problems(await doctor(), 'orphan-process');
    expect(found.map((f) => f.subject)).toEqual([String(orphan.pid)]);
    expect(found[0]!.fix!.command).toBe(`kill ${orphan.pid}`);
    const exited = new Promise((r) => orphan!.once('exit', r));
    await applyFix(found[0]!);
    await exited;
    expect(problems(await doctor(), 'orphan-process')).toEqual([]);
    rmSync(sock, { force: true });
  });

  it('finds an orphaned VM directory, and its fix removes it', async () => {
    const dir = path.join(d.stateDir, 'vms', '00000000-dead-4bee-8f00-000000000000');
    mkdirSync(dir);
    const found = problems(await doctor(), 'orphan-dir');
    expect(found.map((f) => f.subject)).toEqual([dir]);
    await applyFix(found[0]!);
    expect(problems(await doctor(), 'orphan-dir')).toEqual([]);
  });

  it('finds a deleted disk file, and `polyvisor disk detach` clears it', async () => {
    const img = path.join(tempStateDir('dk'), 'data.qcow2');
    await runChecked('qemu-img', ['create', '-q', '-f', 'qcow2', img, '16M'], { timeoutMs: scaled(10_000), failCode: 'INTERNAL' });
    await d.client.createVm(guestSpec('dk', { disks: [{ name: 'data', path: img, format: 'qcow2' }] }));
    expect(problems(await doctor(), 'vm-disk')).toEqual([]);
    rmSync(img);
    const found = problems(await doctor(), 'vm-disk');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'critical', subject: 'dk', fix: { command: 'polyvisor disk detach dk data' } });
    expect((await runCli(['--socket', d.socket, 'doctor'])).code).toBe(1); // critical → exit 1
    await applyFix(found[0]!);
    expect(problems(await doctor(), 'vm-disk')).toEqual([]);
  });

  it('finds a full pool (a 16 MiB tmpfs), and removing the volume it names clears it', async () => {
    tmpfs = mkdtempSync(path.join('/tmp', 'pv-tmpfs-'));
    await runChecked('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', tmpfs], { timeoutMs: scaled(10_000), failCode: 'INTERNAL' });
    expect((await runCli(['--socket', d.socket, 'pool', 'add', 'tiny', tmpfs])).code).toBe(0);
    expect(problems(await doctor(), 'pool')).toEqual([]);
    await run('dd', ['if=/dev/zero', `of=${path.join(tmpfs, 'filler.raw')}`, 'bs=1M', 'count=15'], { timeoutMs: scaled(30_000) });
    const found = problems(await doctor(), 'pool');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ subject: 'tiny', fix: { command: 'polyvisor volume rm tiny filler' } });
    await applyFix(found[0]!);
    expect(problems(await doctor(), 'pool')).toEqual([]);
  });
});
