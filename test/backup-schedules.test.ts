/**
 * Backup schedules against a real guest: a schedule by label selector runs
 * every 6 s (CLI add/list/rm), backs the VM up and applies its retention
 * after each run (full backups, keep-last 1: exactly one record remains);
 * with the daemon down for more than two intervals, the missed run happens
 * once at start, not once per missed interval.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BackupClient, BackupScheduleClient, type BackupScheduleEntry } from '../src/client/index.js';
import { sleep } from '../src/shared/index.js';
import { ROOT, killQemusUnder, startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { daemonAlive, removeAllVms } from './helpers/isolate.js';
import { limit, scaled } from './helpers/limits.js';
import { READY, guestSpec, waitForLine, waitForState } from './helpers/vm.js';

/** The VM of the running test (each test makes its own). */
let VM = '';
const stateDir = tempStateDir('sched');
let d: TestDaemon;
const bk = () => new BackupClient({ endpoint: { socketPath: d.socket } });
const sc = () => new BackupScheduleClient({ endpoint: { socketPath: d.socket } });
const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'polyvisor.js'), '--socket', d.socket, ...args], { encoding: 'utf8' });

beforeAll(async () => {
  d = await startDaemon({ stateDir });
});
// a test that failed while its daemon was down leaves a running daemon, and no VM or schedule, to the next
afterEach(async () => {
  if (!daemonAlive(d)) d = await startDaemon({ stateDir });
  for (const x of await sc().list()) await sc().remove(x.name);
  await removeAllVms(d);
});
afterAll(async () => {
  await d?.stop();
  killQemusUnder(stateDir);
});

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = limit('operation', 0.5)): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('backup schedules', () => {
  it('runs by label selector, applies retention after each run, shows next runs; CLI add/list/rm', async () => {
    VM = 'sched';
    await d.client.createVm(guestSpec(VM, { labels: { tier: 'web' }, disks: [{ name: 'data', size: '16Mi' }] }));
    await d.client.action(VM, 'start');
    await waitForLine(d.client, VM, READY);
    const add = cli('--json', 'backup', 'schedule', 'add', 'web-often', '--selector', 'tier=web', '--when', 'every 6s', '--keep-last', '1', '--full');
    expect(add.status, add.stderr).toBe(0);
    const created = JSON.parse(add.stdout) as BackupScheduleEntry;
    expect(created).toMatchObject({ selector: { tier: 'web' }, when: 'every 6s', full: true, enabled: true, lastRunAt: null });
    expect(new Date(created.nextRunAt!).getTime() - new Date(created.createdAt).getTime()).toBe(6000);

    const first = await until('a first run', async () => ((await sc().get('web-often')).lastRunAt ? sc().get('web-often') : undefined));
    expect(first.lastResult?.backedUp).toEqual([{ vm: VM, id: expect.any(String) as string, kind: 'full' }]);
    const second = await until('a second run', async () => {
      const s = await sc().get('web-often');
      return s.lastRunAt !== first.lastRunAt ? s : undefined;
    });
    expect(second.lastResult?.pruned).toEqual([first.lastResult!.backedUp[0]!.id]);
    expect((await bk().list(VM)).map((r) => r.id)).toEqual([second.lastResult!.backedUp[0]!.id]);
    expect(new Date(second.nextRunAt!).getTime() - new Date(second.lastRunAt!).getTime()).toBe(6000);

    const ls = cli('backup', 'schedule', 'list');
    expect(ls.status, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(/^web-often\s+tier=web\s+every 6s\s+2026|^web-often\s+tier=web\s+every 6s\s+\d{4}-/m);
    expect(cli('backup', 'schedule', 'add', 'bad', '--vm', VM, '--when', 'hourly').status).not.toBe(0);
  });

  it('a run missed while the daemon was down runs once at start', async () => {
    // set-up: a running VM labelled tier=web (its guest need not be up for a backup) and the schedule web-often
    VM = 'sched-missed';
    await d.client.createVm(guestSpec(VM, { labels: { tier: 'web' }, disks: [{ name: 'data', size: '16Mi' }] }));
    await d.client.action(VM, 'start');
    await sc().create('web-often', { selector: { tier: 'web' }, when: 'every 6s', retention: { keepLast: 1 }, full: true });
    await sc().update('web-often', { selector: { tier: 'web' }, when: 'every 6s', retention: { keepLast: 50 }, full: true });
    await d.stop();
    const downAt = new Date().toISOString();
    await sleep(14_000); // two intervals missed
    d = await startDaemon({ stateDir });
    await waitForState(d.client, VM, 'running');
    const upAt = new Date().toISOString();
    const caughtUp = await until('the catch-up run', async () => {
      const s = await sc().get('web-often');
      return s.lastRunAt && s.lastRunAt > upAt ? s : undefined;
    }, scaled(20_000));
    const since = (await bk().list(VM)).filter((r) => r.createdAt > downAt);
    expect(since).toHaveLength(1);
    expect(since[0]!.id).toBe(caughtUp.lastResult!.backedUp[0]!.id);
    const rm = cli('backup', 'schedule', 'rm', 'web-often');
    expect(rm.status, rm.stderr).toBe(0);
    expect(await sc().list()).toEqual([]);
    await d.client.action(VM, 'kill');
  });
});
