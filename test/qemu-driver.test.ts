/**
 * The QEMU driver against real QEMU (TCG unless POLYVISOR_ACCEL says
 * otherwise) and the project's test guest: boot, pause/resume, reboot through
 * the guest agent, suspend to disk and restore, adoption by a fresh driver,
 * ACPI power-off, kill. Each test runs a QEMU of its own (a fresh plan:
 * its own id and directory); every QEMU a test started is killed by PID
 * after it.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DriverEvent, LaunchPlan, VmInstance } from '../src/drivers/index.js';
import { createQemuDriver, type QemuDriver } from '../src/drivers/qemu/index.js';
import { GuestAgentClient } from '../src/qmp/index.js';
import { pidArgv, signalPid, sleep, timeoutSignal } from '../src/shared/index.js';
import { validateSpec } from '../src/spec/index.js';
import { testGuest } from './helpers/guest.js';
import { limit, scaled } from './helpers/limits.js';

const READY = 'POLYVISOR-GUEST-READY';
const accel = (process.env['POLYVISOR_ACCEL'] ?? 'tcg') as 'auto' | 'kvm' | 'tcg';
const sig = (ms = limit('state')): AbortSignal => timeoutSignal(ms);

let root: string;
let driver: QemuDriver;
let plan: LaunchPlan;
let inst: VmInstance;
const events: DriverEvent[] = [];
const pids = new Set<number>();

function readyCount(): number {
  const log = existsSync(inst.files.serialLog) ? readFileSync(inst.files.serialLog, 'utf8') : '';
  return log.split(/\r?\n/).filter((l) => l.trim() === READY).length;
}

async function waitReady(count: number, ms = limit('boot')): Promise<void> {
  const deadline = Date.now() + ms;
  while (readyCount() < count) {
    if (Date.now() > deadline) throw new Error(`READY seen ${readyCount()}/${count} times; serial log tail:\n${readFileSync(inst.files.serialLog, 'utf8').slice(-1500)}`);
    await sleep(50);
  }
}

async function waitEvent(pred: (e: DriverEvent) => boolean, ms = scaled(15_000)): Promise<void> {
  const deadline = Date.now() + ms;
  while (!events.some(pred)) {
    if (Date.now() > deadline) throw new Error(`event not seen; got ${JSON.stringify(events)}`);
    await sleep(20);
  }
}

function track(i: VmInstance): VmInstance {
  pids.add(i.info.pid);
  i.onEvent((e) => events.push(e));
  return i;
}

let planNo = 0;
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'pv-drv-'));
  driver = createQemuDriver({ cacheDir: path.join(root, 'cache'), accelOverride: accel });
});

// every test gets a fresh plan (its own VM id and directory) and a clean event list
beforeEach(() => {
  const g = testGuest();
  const spec = validateSpec({
    name: 'drv', memory: '262084Ki',
    boot: { kernel: g.kernel, initrd: g.initrd, cmdline: `${g.cmdline} pv.name=drv` },
  });
  plan = { id: randomUUID(), spec, dir: path.join(root, `vm${++planNo}`), diskPaths: {} };
  events.length = 0;
});

/** Kills, by PID, every QEMU of this test's plan. */
afterEach(async () => {
  for (const pid of pids) {
    if ((await pidArgv(pid))?.includes(plan.id)) signalPid(pid, 'SIGKILL');
  }
  pids.clear();
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Set-up: starts this test's QEMU; with `ready`, waits for the guest's READY line. */
async function boot(ready: boolean): Promise<void> {
  inst = track(await driver.start(plan, sig(limit('boot'))));
  if (ready) await waitReady(1);
}

describe('QEMU driver with the test guest', () => {
  it('starts a direct-kernel guest that reports READY on its serial log', async () => {
    const t0 = Date.now();
    inst = track(await driver.start(plan, sig(limit('boot'))));
    expect(inst.info).toMatchObject({ accel: accel === 'auto' ? expect.any(String) : accel, qemuVersion: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    expect(await inst.status(sig())).toBe('running');
    await waitReady(1);
    console.log(`start → READY: ${Date.now() - t0} ms`);
  });

  it('pauses and resumes, reporting events', async () => {
    await boot(false);
    await inst.pause(sig());
    expect(await inst.status(sig())).toBe('paused');
    await waitEvent((e) => e.type === 'paused' && e.reason === 'pause requested');
    await inst.resume(sig());
    expect(await inst.status(sig())).toBe('running');
    await waitEvent((e) => e.type === 'resumed');
  });

  it('reboots through the guest agent: the guest comes up again', async () => {
    await boot(true);
    expect(await inst.reboot(sig())).toBe('agent');
    await waitReady(2);
    await waitEvent((e) => e.type === 'reset' && e.guest);
  });

  it('suspends to disk and resumes where it was', async () => {
    await boot(true);
    const oldPid = inst.info.pid;
    const progress: number[] = [];
    let t0 = Date.now();
    await inst.saveToDisk(sig(limit('operation', 0.5)), (f) => progress.push(f));
    console.log(`save to disk: ${Date.now() - t0} ms`);
    expect(progress.at(-1)).toBe(1);
    expect(existsSync(inst.files.saveFile)).toBe(true);
    expect(await pidArgv(oldPid)).toBeUndefined();
    await waitEvent((e) => e.type === 'exited' && e.reason === 'saved to disk');
    const readyBefore = readyCount();
    t0 = Date.now();
    inst = track(await driver.start({ ...plan, restoreFrom: inst.files.saveFile }, sig(limit('boot'))));
    console.log(`restore: ${Date.now() - t0} ms`);
    expect(inst.info.pid).not.toBe(oldPid);
    expect(await inst.status(sig())).toBe('running');
    expect(existsSync(inst.files.saveFile)).toBe(false);
    const agent = await GuestAgentClient.connect(inst.files.agentSocket, { timeoutMs: scaled(10_000) });
    try {
      expect(await agent.execute('guest-ping')).toEqual({});
    } finally {
      agent.close();
    }
    expect(readyCount()).toBe(readyBefore); // restored, not rebooted
  });

  it('is adopted by a fresh driver, and refuses a process of another VM', async () => {
    await boot(false);
    const pid = inst.info.pid;
    inst.detach();
    const fresh = createQemuDriver({ accelOverride: 'tcg' });
    const other = await fresh.adopt({ ...plan, id: randomUUID() }, sig());
    expect(other).toMatchObject({ ok: false, reason: expect.stringMatching(/not this VM's QEMU/) });
    const res = await fresh.adopt(plan, sig());
    if (!res.ok) throw new Error(res.reason);
    inst = track(res.instance);
    expect(inst.info.pid).toBe(pid);
    expect(await inst.status(sig())).toBe('running');
  });

  it('powers off on the ACPI button and reports the exit', async () => {
    await boot(true);
    events.length = 0;
    await inst.powerdown(sig());
    await inst.waitExit(sig());
    await waitEvent((e) => e.type === 'exited');
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['powerdown-requested', 'shutdown', 'exited']));
    expect(events.find((e) => e.type === 'shutdown')).toMatchObject({ guest: true });
    expect(await driver.adopt(plan, sig())).toMatchObject({ ok: false });
  });

  it('kills a running guest', async () => {
    inst = track(await driver.start(plan, sig(limit('boot'))));
    await inst.kill(sig());
    expect(await pidArgv(inst.info.pid)).toBeUndefined();
    expect((await driver.adopt(plan, sig())).ok).toBe(false);
  });
});
