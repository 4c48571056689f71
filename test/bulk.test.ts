/** Bulk actions by label selector through the CLI: dry run, concurrency, per-VM table; exactly the matching VMs change. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { runCli } from './helpers/http.js';
import { removeAllVms } from './helpers/isolate.js';
import { guestSpec } from './helpers/vm.js';

let d: TestDaemon;
const VMS: Array<[string, Record<string, string>, boolean]> = [
  ['t1', { env: 'test', tier: 'web' }, true],
  ['t2', { env: 'test', tier: 'db' }, true],
  ['p1', { env: 'prod' }, true],
  ['t3', { env: 'test' }, false], // never started: stop is skipped, not failed
];

beforeAll(async () => {
  d = await startDaemon();
});
/** Set-up of one test: creates the four VMs and starts those marked to start (no guest needs to boot); `killed` are then killed. */
async function setUpVms(killed: string[] = []): Promise<void> {
  for (const [name, labels] of VMS) await d.client.createVm(guestSpec(name, { labels }));
  for (const [name, , start] of VMS) if (start) await d.client.action(name, 'start');
  for (const name of killed) await d.client.action(name, 'kill');
}
afterEach(() => removeAllVms(d));
afterAll(async () => {
  await d?.stop();
  killQemusUnder(d.stateDir);
});

const cli = (args: string[]) => runCli(['--socket', d.socket, ...args]);
const states = async () => Object.fromEntries((await d.client.listVms()).map((v) => [v.name, v.state]));

describe('bulk actions by label', () => {
  it('--dry-run lists what would happen and changes nothing', async () => {
    await setUpVms();
    const r = await cli(['vm', 'stop', '-l', 'env=test', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^VM\s+BEFORE\s+RESULT/);
    expect(r.stdout).toMatch(/t1\s+running\s+would run/);
    expect(r.stdout).toMatch(/t3\s+created\s+skipped/);
    expect(r.stdout).not.toContain('p1');
    expect(r.stdout).toContain('3 VM(s) match env=test: 2 would run, 1 skipped');
    expect(await states()).toEqual({ t1: 'running', t2: 'running', p1: 'running', t3: 'created' });
  });

  it('stop -l env=test stops exactly the matching running VMs, two at a time', async () => {
    await setUpVms();
    const r = await cli(['vm', 'stop', '-l', 'env=test', '--concurrency', '2', '--force', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ vm: string; result: string; after: string | null }>;
    expect(rows.map((x) => [x.vm, x.result, x.after]).sort()).toEqual([['t1', 'ok', 'stopped'], ['t2', 'ok', 'stopped'], ['t3', 'skipped', 'created']]);
    expect(await states()).toEqual({ t1: 'stopped', t2: 'stopped', p1: 'running', t3: 'created' });
  });

  it('selectors combine labels (AND); start and kill work the same way', async () => {
    await setUpVms(['t1', 't2']); // as the stop by env=test leaves them
    const r = await cli(['vm', 'start', '-l', 'env=test,tier=db']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/t2\s+stopped\s+ok\s+running/);
    expect(await states()).toEqual({ t1: 'stopped', t2: 'running', p1: 'running', t3: 'created' });
    const k = await cli(['vm', 'kill', '-l', 'env=prod']);
    expect(k.code, k.stderr).toBe(0);
    expect(await states()).toEqual({ t1: 'stopped', t2: 'running', p1: 'stopped', t3: 'created' });
  });

  it('refuses a bad selector and a missing name', async () => {
    expect((await cli(['vm', 'stop', '-l', 'oops'])).stderr).toMatch(/not KEY=VALUE/);
    expect((await cli(['vm', 'pause'])).stderr).toMatch(/give a VM name or a label selector/);
  });
});
