import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pidAlive, sleep } from '../shared/index.js';
import { FenceTargets, processStartTicks } from './fence-targets.js';
import { FenceClock, runWatchdog } from './watchdog.js';

/** A line source the test pushes into, like the agent's pipe. */
function pipe() {
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  return {
    push(l: string) { queue.push(l); wake?.(); },
    close() { closed = true; wake?.(); },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (queue.length) yield queue.shift()!;
        if (closed) return;
        await new Promise<void>((r) => { wake = r; });
      }
    },
  };
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.pid && pidAlive(c.pid)) process.kill(c.pid, 'SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function sleeper(): ChildProcess {
  const c = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(c);
  return c;
}
const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
function targetsDir(): FenceTargets {
  const d = mkdtempSync(path.join(os.tmpdir(), 'pv-fence-'));
  dirs.push(d);
  return new FenceTargets(path.join(d, 'fence'));
}

describe('FenceClock', () => {
  it('is disarmed until the first alive line, then fences once it has passed', () => {
    const c = new FenceClock();
    expect(c.verdict(1_000)).toBe('disarmed');
    expect(c.feed('alive 1700000002000')).toBe(true);
    expect(c.verdict(1_700_000_001_999)).toBe('armed');
    expect(c.verdict(1_700_000_002_000)).toBe('fence');
  });
  it('never moves backwards and ignores lines it does not know', () => {
    const c = new FenceClock();
    c.feed('alive 1700000005000');
    c.feed('alive 1700000003000');
    expect(c.until).toBe(1_700_000_005_000);
    expect(c.feed('alive soon')).toBe(false);
    expect(c.feed('rm -rf /')).toBe(false);
    expect(c.until).toBe(1_700_000_005_000);
    c.disarm();
    expect(c.verdict(2e12)).toBe('disarmed');
  });
});

describe('runWatchdog with real processes', () => {
  it('kills the HA processes once renewals stop (a hung agent), and removes their entries', async () => {
    const t = targetsDir();
    const ha = sleeper();
    const other = sleeper(); // not an HA VM: never touched
    await t.add('ha1', ha.pid!);
    const lines = pipe();
    lines.push(`alive ${Date.now() + 400}`);
    const logs: string[] = [];
    const report = await runWatchdog({ lines, targets: t, log: (m) => logs.push(m), tickMs: 20 });
    expect(report?.killed.map((k) => k.vm)).toEqual(['ha1']);
    await sleep(50);
    expect(exited(ha)).toBe(true);
    expect(ha.signalCode).toBe('SIGKILL');
    expect(exited(other)).toBe(false);
    expect(await t.list()).toEqual([]);
    expect(logs.join('\n')).toMatch(/fenced: .*ha1 \(pid \d+\)/);
    // It noted what it killed for the rejoin (read once, then gone).
    expect(await t.takeFenced()).toEqual(['ha1']);
    expect(await t.takeFenced()).toEqual([]);
  });

  it('keeps the VMs alive while renewals arrive, and disarms on leave', async () => {
    const t = targetsDir();
    const ha = sleeper();
    await t.add('ha1', ha.pid!);
    const lines = pipe();
    const run = runWatchdog({ lines, targets: t, log: () => {}, tickMs: 20 });
    for (let i = 0; i < 10; i++) {
      lines.push(`alive ${Date.now() + 250}`);
      await sleep(100);
    }
    expect(exited(ha)).toBe(false);
    lines.push('leave');
    expect(await run).toBeUndefined();
    await sleep(400);
    expect(exited(ha)).toBe(false);
  });

  it('still fences when the agent dies (its pipe closes)', async () => {
    const t = targetsDir();
    const ha = sleeper();
    await t.add('ha1', ha.pid!);
    const lines = pipe();
    lines.push(`alive ${Date.now() + 300}`);
    lines.close();
    const logs: string[] = [];
    const report = await runWatchdog({ lines, targets: t, log: (m) => logs.push(m), tickMs: 20 });
    expect(report?.killed).toHaveLength(1);
    expect(logs[0]).toMatch(/the agent went away: fencing at/);
  });

  it('leaves a PID alone when its start time says it is another process', async () => {
    const t = targetsDir();
    const proc = sleeper();
    const ticks = await processStartTicks(proc.pid!);
    expect(ticks).toBeGreaterThan(0);
    await import('node:fs/promises').then((fs) => fs.mkdir(t.dir, { recursive: true }));
    writeFileSync(path.join(t.dir, 'old.json'), JSON.stringify({ vm: 'old', pid: proc.pid, startTicks: ticks! - 1 }));
    writeFileSync(path.join(t.dir, 'junk.json'), '{"vm":');
    const lines = pipe();
    lines.push(`alive ${Date.now()}`);
    const report = await runWatchdog({ lines, targets: t, log: () => {}, tickMs: 20 });
    expect(report?.killed).toEqual([]);
    expect(report?.skipped.map((s) => s.vm)).toEqual(['old']);
    expect(exited(proc)).toBe(false);
  });
});
