/**
 * A QEMU exit that could not be recorded because the store did not answer (a
 * cluster store without quorum) is recorded once it answers again — for an HA
 * VM too: its QEMU may have died on its own while the host kept its lease, and
 * nothing else would ever record it (no rejoin runs). A fenced HA VM whose exit
 * is recorded this way is restarted by the rejoin (daemon/cluster-wiring.ts,
 * test/ha-cluster and test/cluster-faults). A real SQLite store behind a switch
 * that makes every call fail with STORE_UNAVAILABLE; the driver hands out an
 * instance whose exit the test reports (no process).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Driver, DriverEvent, VmInstance } from '../drivers/index.js';
import { stubDriver } from '../drivers/stub-driver.js';
import { PolyvisorError, silentLogger, sleep } from '../shared/index.js';
import { validateSpec } from '../spec/index.js';
import type { Store } from '../store/index.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite/index.js';
import { VmService } from './vm-service.js';

let dir: string;
let sqlite: SqliteStore;
let down = false;
let vms: VmService;
const listeners = new Map<string, (e: DriverEvent) => void>();

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-exitretry-'));
  await mkdir(path.join(dir, 'vms'));
  sqlite = openSqliteStore(path.join(dir, 'state.db'));
  down = false;
  const store = new Proxy(sqlite, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function' || prop === 'close') return v;
      return (...args: unknown[]) => {
        if (down) return Promise.reject(new PolyvisorError('STORE_UNAVAILABLE', 'no quorum (test switch)'));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as unknown as Store;
  const driver: Driver = {
    ...stubDriver,
    start: async (plan) => {
      const inst = {
        info: { pid: 2 ** 22 + 7, accel: 'tcg', startedAt: new Date().toISOString(), qemuVersion: 'test' },
        files: stubDriver.files(plan.dir),
        status: async () => 'running',
        onEvent: (l: (e: DriverEvent) => void) => { listeners.set(plan.spec.name, l); return () => undefined; },
        detach: () => undefined,
        kill: async () => undefined,
        waitExit: async () => undefined,
      };
      return inst as unknown as VmInstance;
    },
  };
  vms = new VmService({ store, driver, host: 'h', vmsDir: path.join(dir, 'vms'), logger: silentLogger, readMeminfo: async () => 'MemAvailable: 99999999 kB\n' });
});
afterEach(async () => {
  down = false;
  await vms.close();
  await sqlite.close();
  await rm(dir, { recursive: true, force: true });
});

async function stateAfterOutage(name: string, ha: boolean): Promise<{ state: string; reason: string }> {
  await vms.create(validateSpec({ name, memory: '64Mi', boot: { kernel: '/bin/true' }, ha }));
  await vms.start(name);
  expect((await vms.get(name)).state).toBe('running');
  down = true;
  listeners.get(name)!({ type: 'exited', reason: 'QEMU was killed by SIGKILL' });
  await sleep(1_500); // at least one retry fails while the store is down
  down = false;
  for (let i = 0; i < 50; i++) {
    const rec = await vms.get(name);
    if (rec.state !== 'running') return { state: rec.state, reason: rec.stateReason };
    await sleep(100);
  }
  const rec = await vms.get(name);
  return { state: rec.state, reason: rec.stateReason };
}

describe('a QEMU exit while the store does not answer', () => {
  it('a plain VM is recorded stopped once the store answers', async () => {
    expect(await stateAfterOutage('plain', false)).toEqual({ state: 'stopped', reason: 'QEMU exited (QEMU was killed by SIGKILL)' });
  });

  it('an HA VM too (its QEMU may have died while the host kept its lease: nothing else would record it)', async () => {
    expect(await stateAfterOutage('hav', true)).toEqual({ state: 'stopped', reason: 'QEMU exited (QEMU was killed by SIGKILL)' });
  });
});
