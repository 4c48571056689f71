/**
 * The fencing watchdog as a real process beside a real "agent" process (a
 * Node script that starts it through daemon/watchdog-wiring.ts, as the
 * daemon does, and feeds it lease renewals): when the agent hangs (SIGSTOP)
 * or dies (SIGKILL), the watchdog kills the host's HA processes once the last
 * renewal runs out, and leaves other processes alone; when the agent leaves
 * on purpose, it disarms. The HA "VMs" are plain `sleep` processes here: what
 * is under test is who kills them and when, not QEMU.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FenceTargets } from '../src/cluster/index.js';
import { pidAlive, sleep, timeoutSignal, waitFor } from '../src/shared/index.js';

const DIST = path.resolve('dist/daemon/watchdog-wiring.js');
const procs: ChildProcess[] = [];
const pids: number[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.pid && pidAlive(p.pid)) { process.kill(p.pid, 'SIGCONT'); process.kill(p.pid, 'SIGKILL'); }
  for (const pid of pids.splice(0)) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** An agent: starts the watchdog and renews a 1.5 s "lease" every 300 ms; prints the watchdog's PID; `leave` on SIGUSR2. */
function agent(stateDir: string): Promise<{ agent: ChildProcess; watchdogPid: number }> {
  const script = `
    const { startWatchdog } = await import(${JSON.stringify(DIST)});
    const log = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, child() { return log; } };
    const w = startWatchdog(${JSON.stringify(stateDir)}, log);
    console.log('watchdog ' + w.pid);
    const t = setInterval(() => w.alive(Date.now() + 1500), 300);
    w.alive(Date.now() + 1500);
    process.on('SIGUSR2', () => { clearInterval(t); w.leave(); setTimeout(() => process.exit(0), 200); });`;
  const a = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(a);
  return new Promise((resolve, reject) => {
    a.stdout!.on('data', (b: Buffer) => {
      const m = /watchdog (\d+)/.exec(b.toString());
      if (m) { pids.push(Number(m[1])); resolve({ agent: a, watchdogPid: Number(m[1]) }); }
    });
    a.on('exit', (code) => reject(new Error(`agent exited ${code}`)));
  });
}

async function setup() {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'pv-wd-'));
  dirs.push(stateDir);
  const { agent: a, watchdogPid } = await agent(stateDir);
  const targets = new FenceTargets(path.join(stateDir, 'fence'));
  const ha = spawn('sleep', ['120'], { stdio: 'ignore', detached: true });
  const other = spawn('sleep', ['120'], { stdio: 'ignore', detached: true });
  pids.push(ha.pid!, other.pid!);
  expect(await targets.add('web', ha.pid!)).toBe(true);
  return { stateDir, a, watchdogPid, targets, ha, other };
}
const until = (what: string, cond: () => boolean, ms: number) => waitFor(what, () => (cond() ? true : undefined), { signal: timeoutSignal(ms), intervalMs: 50 });
/** Alive and not a zombie (a watchdog whose parent agent is stopped stays a zombie until the agent runs again). */
const running = (pid: number) => {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
const gone = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;

describe('fencing watchdog beside an agent process', () => {
  it('keeps HA processes while the agent renews, kills them when the agent hangs (SIGSTOP)', async () => {
    const s = await setup();
    await sleep(2_500); // longer than the 1.5 s lease: renewals keep it armed
    expect(gone(s.ha)).toBe(false);
    process.kill(s.a.pid!, 'SIGSTOP');
    await until('the HA process to be fenced', () => gone(s.ha), 10_000);
    expect(s.ha.signalCode).toBe('SIGKILL');
    await until('the watchdog to exit after fencing', () => !running(s.watchdogPid), 5_000);
    expect(gone(s.other)).toBe(false);
    expect(await s.targets.list()).toEqual([]);
    const log = readFileSync(path.join(s.stateDir, 'watchdog.log'), 'utf8');
    expect(log).toMatch(new RegExp(`fenced: lease not renewed since .*killed web \\(pid ${s.ha.pid}\\)`));
  });

  it('kills them when the agent dies (SIGKILL): the watchdog outlives it', async () => {
    const s = await setup();
    process.kill(s.a.pid!, 'SIGKILL');
    await until('the agent to die', () => gone(s.a), 5_000);
    expect(running(s.watchdogPid)).toBe(true);
    await until('the HA process to be fenced', () => gone(s.ha), 10_000);
    expect(gone(s.other)).toBe(false);
    expect(readFileSync(path.join(s.stateDir, 'watchdog.log'), 'utf8')).toMatch(/the agent went away: fencing at/);
  });

  it('disarms when the agent leaves the cluster on purpose', async () => {
    const s = await setup();
    process.kill(s.a.pid!, 'SIGUSR2');
    await until('the watchdog to exit on leave', () => !running(s.watchdogPid), 5_000);
    await sleep(2_000);
    expect(gone(s.ha)).toBe(false);
    expect(readFileSync(path.join(s.stateDir, 'watchdog.log'), 'utf8')).toMatch(/left the cluster: disarmed/);
  });
});
