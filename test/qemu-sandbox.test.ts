/**
 * QEMU confined by its seccomp sandbox (issue 23, audit defect 5), against
 * real QEMU and the test guest: the filter is installed (the kernel says so in
 * /proc/PID/status), QEMU runs in a session of its own (it outlives the
 * daemon without -daemonize, which the sandbox forbids), and a QEMU asked to
 * run a program is killed by the filter: QEMU's own `migrate exec:` path forks
 * a shell, the kernel answers with SIGSYS, and the VM's exit reason says so.
 * A start that fails reports QEMU's own words from its log. Each QEMU runs in
 * a cgroup of its own with CPU, memory and thread limits from its spec, and
 * the group goes when the process does.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DriverEvent, LaunchPlan, VmInstance } from '../src/drivers/index.js';
import { createQemuDriver, type QemuDriver } from '../src/drivers/qemu/index.js';
import { VmCgroups, cgroupLimits } from '../src/drivers/qemu/cgroups.js';
import type { QmpClient } from '../src/qmp/index.js';
import { pidArgv, PolyvisorError, signalPid, sleep, timeoutSignal } from '../src/shared/index.js';
import { validateSpec } from '../src/spec/index.js';
import { testGuest } from './helpers/guest.js';
import { limit } from './helpers/limits.js';

let root: string;
let driver: QemuDriver;
const pids = new Set<number>();
let n = 0;

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'pv-sbx-'));
  driver = createQemuDriver({ cacheDir: path.join(root, 'cache'), accelOverride: 'tcg' });
});
afterEach(async () => {
  for (const pid of pids) if ((await pidArgv(pid))?.includes('-uuid')) signalPid(pid, 'SIGKILL');
  pids.clear();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function plan(extra: Record<string, unknown> = {}): LaunchPlan {
  const g = testGuest();
  const spec = validateSpec({ name: 'sbx', memory: '128Mi', boot: { kernel: g.kernel, initrd: g.initrd, cmdline: g.cmdline }, ...extra });
  return { id: randomUUID(), spec, dir: path.join(root, `vm${++n}`), diskPaths: {} };
}

async function start(p: LaunchPlan): Promise<{ inst: VmInstance; events: DriverEvent[] }> {
  const inst = await driver.start(p, timeoutSignal(limit('boot')));
  pids.add(inst.info.pid);
  const events: DriverEvent[] = [];
  inst.onEvent((e) => events.push(e));
  return { inst, events };
}

const status = (pid: number): string => readFileSync(`/proc/${pid}/status`, 'utf8');
/** Field 6 of /proc/PID/stat: the session id. */
const sessionOf = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[3]);

describe('QEMU under its seccomp sandbox', () => {
  it('runs with the filter installed, in a session of its own, and no -daemonize', async () => {
    const { inst } = await start(plan());
    expect(status(inst.info.pid)).toMatch(/^Seccomp:\s+2$/m); // 2 = filter mode
    expect(sessionOf(inst.info.pid)).toBe(inst.info.pid);
    expect(sessionOf(inst.info.pid)).not.toBe(sessionOf(process.pid));
    const argv = (await pidArgv(inst.info.pid))!;
    expect(argv).not.toContain('-daemonize');
    expect(argv[argv.indexOf('-sandbox') + 1]).toBe('on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny');
  });

  it('kills a QEMU that tries to run a program (migrate to exec:), and the VM says why', async () => {
    const { inst, events } = await start(plan());
    const pid = inst.info.pid;
    const marker = path.join(root, `exec-ran-${n}`);
    // The driver never sends exec: (audit defect 1); here the test speaks to QEMU's monitor itself.
    const qmp = (inst as unknown as { qmp: QmpClient }).qmp;
    await qmp.execute('migrate', { uri: `exec:touch ${marker}` }).catch(() => undefined);
    const deadline = Date.now() + limit('state');
    while (!events.some((e) => e.type === 'exited')) {
      if (Date.now() > deadline) throw new Error(`QEMU ${pid} still running after migrate exec:; events ${JSON.stringify(events)}`);
      await sleep(50);
    }
    expect(events.find((e) => e.type === 'exited')).toMatchObject({ reason: expect.stringMatching(/SIGSYS.*seccomp/) });
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(marker)).toBe(false); // the program never ran
  });

  it('runs in a cgroup of its own with limits from the spec, removed when QEMU exits', async () => {
    const cg = new VmCgroups();
    const version = await cg.probe();
    expect(version, 'this host lets root make cgroups (v1 or v2)').toMatch(/^v[12]$/);
    const p = plan({ cpu: { count: 2 } });
    const { inst, events } = await start(p);
    const groups = readFileSync(`/proc/${inst.info.pid}/cgroup`, 'utf8');
    expect(groups).toContain(`/polyvisor/vm-${p.id}`);
    const limits = cgroupLimits(p.spec, 'tcg');
    const dirs = await cg.dirs(p.id);
    if (version === 'v2') {
      expect(readFileSync(path.join(dirs['']!, 'cpu.max'), 'utf8').trim()).toBe('300000 100000');
      expect(Number(readFileSync(path.join(dirs['']!, 'memory.max'), 'utf8'))).toBe(limits.memoryBytes);
    } else {
      expect(readFileSync(path.join(dirs['cpu']!, 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('300000');
      // The kernel rounds the memory limit down to whole pages.
      expect(Number(readFileSync(path.join(dirs['memory']!, 'memory.limit_in_bytes'), 'utf8'))).toBe(Math.floor(limits.memoryBytes / 4096) * 4096);
      expect(readFileSync(path.join(dirs['pids']!, 'cgroup.procs'), 'utf8').split('\n')).toContain(String(inst.info.pid));
    }
    await inst.kill(timeoutSignal(limit('state')));
    const deadline = Date.now() + limit('state');
    while (Object.values(dirs).some((d) => existsSync(d))) {
      if (Date.now() > deadline) throw new Error(`cgroups of ${p.id} still there after QEMU exited: ${JSON.stringify(dirs)}; events ${JSON.stringify(events)}`);
      await sleep(50);
    }
  });

  it("a QEMU that cannot start reports its own error from qemu.log, and leaves no process", async () => {
    const p = plan({ disks: [{ name: 'd', path: path.join(root, 'not-an-image.qcow2') }] });
    // A file QEMU cannot open as qcow2: the spec is valid, QEMU fails while building the machine.
    const fs = await import('node:fs');
    fs.writeFileSync(path.join(root, 'not-an-image.qcow2'), 'QFI\xfb this is not qcow2');
    const err = await driver.start({ ...p, diskPaths: { d: path.join(root, 'not-an-image.qcow2') } }, timeoutSignal(limit('boot'))).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PolyvisorError);
    expect((err as PolyvisorError).code).toBe('QEMU_START_FAILED');
    expect((err as PolyvisorError).message).toMatch(/QEMU exited with status 1 .*qcow2/is);
    expect(readFileSync(path.join(p.dir, 'qemu.log'), 'utf8')).toMatch(/qcow2/i);
  });
});
