/**
 * The VM list's multi-select in Debian's Chromium against a real daemon and
 * real QEMU: tick VMs, run a bulk action from the bar (one POST
 * /v1/vms/actions), see progress and per-VM results, the failed VM with its
 * code and message; stop and kill ask first; a viewer gets no checkboxes.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PlatformClient, SnapshotClient } from '../src/client/index.js';
import { launchChromium, logInWebUi } from './helpers/browser.js';
import { ROOT, killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { removeAllVms } from './helpers/isolate.js';
import { limit } from './helpers/limits.js';
import { guestSpec } from './helpers/vm.js';

const SHOTS = path.join(ROOT, 'docs', 'screenshots');
let d: TestDaemon;
let browser: Browser;
let operator: string;
let viewer: string;

beforeAll(async () => {
  d = await startDaemon();
  const p = new PlatformClient({ endpoint: { socketPath: d.socket } });
  operator = (await p.createToken('bulk-operator', 'operator')).token;
  viewer = (await p.createToken('bulk-viewer', 'viewer')).token;
  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
});
afterEach(() => removeAllVms(d));
afterAll(async () => {
  await browser?.close();
  await d?.stop();
  if (d) killQemusUnder(d.stateDir);
});

const logIn = (token: string) => logInWebUi(browser, d.url, token);

/** bulk1 and bulk2 with a small disk, bulk3 without one (a snapshot of it must fail). */
async function threeVms(): Promise<void> {
  await d.client.createVm(guestSpec('bulk1', { disks: [{ name: 'data', size: '8Mi' }] }));
  await d.client.createVm(guestSpec('bulk2', { disks: [{ name: 'data', size: '8Mi' }] }));
  await d.client.createVm(guestSpec('bulk3'));
}

const resultRows = (page: Page) => page.$$eval('[data-testid=bulk-report] tbody tr', (trs) => trs.map((t) => [t.getAttribute('data-vm'), t.getAttribute('data-result'), t.children[4]?.textContent ?? '']));
const vmStates = (page: Page) => page.$$eval('table.vms tbody tr', (trs) => trs.map((t) => [t.getAttribute('data-vm'), t.querySelector('[data-testid=vm-state]')?.textContent]));

describe('multi-select on the VM list', () => {
  it('snapshots the ticked VMs in one bulk: per-VM results, the VM without a disk failed and says why', async () => {
    await threeVms();
    const page = await logIn(operator);
    await page.waitForSelector('tr[data-vm=bulk3]');
    expect(await page.isDisabled('button[data-bulk=snapshot]')).toBe(true); // nothing ticked yet
    for (const vm of ['bulk1', 'bulk2', 'bulk3']) await page.check(`input[aria-label="select ${vm}"]`);
    expect(await page.textContent('[data-testid=bulk-count]')).toBe('3 selected');
    await page.click('button[data-bulk=snapshot]');
    await page.waitForSelector('[data-testid=bulk-report][data-status=failed]', { timeout: limit('operation') });
    expect(await page.textContent('[data-testid=bulk-progress]')).toBe('snapshot: 3 of 3 VMs done — 2 ok, 1 failed, 0 skipped (failed)');
    const rows = await resultRows(page);
    expect(rows.map(([vm, r]) => [vm, r])).toEqual([['bulk1', 'ok'], ['bulk2', 'ok'], ['bulk3', 'failed']]);
    expect(rows[0]![2]).toMatch(/^snapshot bulk-\d{8}-\d{6}$/);
    expect(rows[2]![2]).toBe('SNAPSHOT_UNSUPPORTED: VM bulk3 has no writable disk to snapshot');
    expect(await page.textContent('[data-testid=bulk-report] p.error')).toBe('snapshot failed for 1 of 3 VMs: bulk3 (SNAPSHOT_UNSUPPORTED)');
    const snaps = new SnapshotClient({ endpoint: { socketPath: d.socket } });
    for (const vm of ['bulk1', 'bulk2']) expect((await snaps.list(vm)).snapshots.map((s) => s.name)).toEqual([rows[0]![2]!.slice('snapshot '.length)]);
    await page.locator('section[aria-labelledby=vms-title]').screenshot({ path: path.join(SHOTS, 'dashboard-bulk.png') });
    expect(page.problems).toEqual([]);
    await page.context().close();
  });

  it('select all starts every VM; kill asks first and acts on the ticked VM only', async () => {
    await threeVms();
    const page = await logIn(operator);
    await page.waitForSelector('tr[data-vm=bulk3]');
    await page.check('[data-testid=pick-all]');
    expect(await page.textContent('[data-testid=bulk-count]')).toBe('3 selected');
    await page.click('button[data-bulk=start]');
    await page.waitForSelector('[data-testid=bulk-report][data-status=succeeded]', { timeout: limit('operation') });
    expect((await resultRows(page)).map(([vm, r]) => [vm, r])).toEqual([['bulk1', 'ok'], ['bulk2', 'ok'], ['bulk3', 'ok']]);
    await expect.poll(() => vmStates(page), { timeout: limit('state') }).toEqual([['bulk1', 'running'], ['bulk2', 'running'], ['bulk3', 'running']]);

    await page.click('button:has-text("clear selection")');
    await page.check('input[aria-label="select bulk2"]');
    await page.click('button[data-bulk=kill]');
    await page.waitForSelector('dialog.confirm[open]');
    expect(await page.textContent('dialog.confirm')).toContain('bulk2');
    await page.keyboard.press('Escape'); // no: nothing happens
    await page.waitForSelector('dialog.confirm[open]', { state: 'detached' });
    expect((await d.client.getVm('bulk2')).state).toBe('running');
    await page.click('button[data-bulk=kill]');
    await page.click('[data-testid=confirm-yes]');
    await page.waitForSelector('[data-testid=bulk-progress]:has-text("kill: 1 of 1 VMs done")', { timeout: limit('operation') });
    await expect.poll(() => vmStates(page), { timeout: limit('state') }).toEqual([['bulk1', 'running'], ['bulk2', 'stopped'], ['bulk3', 'running']]);
    expect(Object.fromEntries((await d.client.listVms()).map((v) => [v.name, v.state]))).toEqual({ bulk1: 'running', bulk2: 'stopped', bulk3: 'running' });
    expect(page.problems).toEqual([]);
    await page.context().close();
  });

  it('a viewer sees no checkboxes and no bulk bar', async () => {
    await threeVms();
    const page = await logIn(viewer);
    await page.waitForSelector('tr[data-vm=bulk3]');
    expect(await page.$$('input.pick')).toHaveLength(0);
    expect(await page.$('[data-testid=bulk-bar]')).toBeNull();
    await page.context().close();
  });
});
