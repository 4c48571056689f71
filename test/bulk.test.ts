/**
 * Bulk actions by label selector through the CLI (which calls POST
 * /v1/vms/actions): dry run, concurrency, per-VM table; exactly the matching
 * VMs change; a VM that cannot start fails in the middle, the others start.
 */
import { copyFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killQemusUnder, startDaemon, vmTempDir, type TestDaemon } from './helpers/daemon.js';
import { testGuest } from './helpers/guest.js';
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

  it('a VM that cannot start fails in the middle: the others start, the table names it with its code, the exit code says so', async () => {
    // m2's kernel file is gone by the time it starts.
    const kernel = path.join(vmTempDir('bulk-kernel'), 'vmlinuz');
    copyFileSync(testGuest().kernel, kernel);
    await d.client.createVm(guestSpec('m1', { labels: { env: 'mix' } }));
    const spec = guestSpec('m2', { labels: { env: 'mix' } });
    await d.client.createVm({ ...spec, boot: { ...spec.boot, kernel } });
    await d.client.createVm(guestSpec('m3', { labels: { env: 'mix' } }));
    rmSync(kernel);
    const r = await cli(['vm', 'start', '-l', 'env=mix', '--concurrency', '1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/m1\s+created\s+ok\s+running/);
    expect(r.stdout).toMatch(/m2\s+created\s+failed\s+-\s+\S+\s+error\[[A-Z_]+\]: .*vmlinuz/);
    expect(r.stdout).toMatch(/m3\s+created\s+ok\s+running/);
    expect(r.stdout).toContain('3 VM(s) match env=mix: 2 ok, 1 failed, 0 skipped');
    expect(r.stderr).toMatch(/error\[BULK_FAILED\]: start failed for 1 of 3 VMs: m2 \([A-Z_]+\)/);
    expect(await states()).toEqual({ m1: 'running', m2: expect.not.stringMatching(/^running$/), m3: 'running' });
  });
});
