/**
 * The web UI against a real daemon and real test guests, in Debian's Chromium
 * (playwright-core): log in with a token, create a VM from the schema form
 * (bad input shows the API's own message), start it and see it become
 * running without a reload, type into the serial console and read the
 * guest's answer, take snapshots and see them in the tree, a viewer sees no
 * stop button. Saves the screenshots linked from the README. Also checks how
 * the daemon serves the page (types, caching, CSP, client routes).
 * Each test makes the VMs it shows (the daemon, its tokens and the browser
 * are shared) and none outlives it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PlatformClient, SnapshotClient, StorageClient } from '../src/client/index.js';
import { launchChromium } from './helpers/browser.js';
import { ROOT, killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { httpCall } from './helpers/http.js';
import { testGuest } from './helpers/guest.js';
import { removeAllVms } from './helpers/isolate.js';
import { limit, scaled } from './helpers/limits.js';
import { READY, guestSpec, waitForLine } from './helpers/vm.js';

const SHOTS = path.join(ROOT, 'docs', 'screenshots');
let d: TestDaemon;
let browser: Browser;
let admin: string;
let viewer: string;

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist', 'web', 'index.html'))) throw new Error('dist/web is missing: run `npm run build` (it builds the web UI too)');
  d = await startDaemon();
  const p = new PlatformClient({ endpoint: { socketPath: d.socket } });
  admin = (await p.createToken('web-admin', 'admin')).token;
  viewer = (await p.createToken('web-viewer', 'viewer')).token;
  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
});
afterEach(async () => {
  await removeAllVms(d);
  const storage = new StorageClient({ endpoint: { socketPath: d.socket } });
  for (const i of await storage.listImages()) await storage.removeImage(String(i['name'])).catch(() => undefined);
});
afterAll(async () => {
  await browser?.close();
  await d?.stop();
  if (d) killQemusUnder(d.stateDir);
});

/** Set-up: web1 as the form test makes it (a 16 MiB data disk, its description), started; its guest need not be up. */
async function startWeb1(): Promise<void> {
  await d.client.createVm(guestSpec('web1', { description: 'made in the web UI', disks: [{ name: 'data', size: '16Mi' }] }));
  await d.client.action('web1', 'start');
}

async function logIn(token: string, width = 1280): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width, height: 860 } });
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 40[0-9]/.test(m.text())) problems.push(m.text()); });
  (page as Page & { problems: string[] }).problems = problems;
  await page.goto(d.url);
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('text=Virtual machines');
  return page;
}

describe('serving the page', () => {
  it('serves the shell for / and client routes, hashed assets with long caching, and a strict CSP', async () => {
    for (const url of ['/', '/vms/anything', '/storage', '/create']) {
      const r = await httpCall(d.url, 'GET', url);
      expect(r.status, url).toBe(200);
      expect(r.headers['content-type']).toMatch(/^text\/html/);
      expect(r.headers['cache-control']).toBe('no-cache');
      expect(r.headers['content-security-policy']).toMatch(/script-src 'self'(;|$)/);
      expect(r.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    }
    const html = String((await httpCall(d.url, 'GET', '/')).json);
    const js = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(js).toBeDefined();
    const asset = await httpCall(d.url, 'GET', js!);
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/^text\/javascript/);
    expect(asset.headers['cache-control']).toMatch(/immutable/);
    expect((await httpCall(d.url, 'GET', '/assets/..%2F..%2Fdaemon.json')).status).toBe(404);
    expect((await httpCall(d.url, 'GET', '/assets/nope.js')).status).toBe(404);
    // The page holds no data; the data routes still need a token.
    expect((await httpCall(d.url, 'GET', '/v1/vms')).status).toBe(401);
    expect((await httpCall(d.url, 'GET', '/v1/whoami', { token: viewer })).json).toMatchObject({ actor: 'web-viewer', role: 'viewer' });
  });
});

describe('the web UI in Chromium', () => {
  it('rejects a bad token with the API message', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(d.url);
    await page.fill('#token', 'pvt_not-a-real-token');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('[role=alert]')).toMatch(/token/i);
    await page.context().close();
  });

  it('creates a VM from the form, starts it, uses its serial console and snapshot tree', async () => {
    const page = await logIn(admin);
    const g = testGuest();
    await page.click('nav >> text=Create VM');
    await page.waitForSelector('[name="boot.kernel"]');

    // Bad memory: the form shows the API's own message under the field.
    await page.fill('[name=name]', 'web1');
    await page.fill('[name=memory]', 'lots');
    await page.click('button:has-text("Create")');
    const shown = await page.textContent('.field-error[data-field=memory]', { timeout: scaled(10_000) });
    const api = await httpCall(d.url, 'POST', '/v1/vms', { token: admin, body: { spec: { name: 'web1', memory: 'lots' } } });
    const apiMessage = (api.json as { details: Array<{ field: string; message: string }> }).details.find((x) => x.field === 'memory')?.message;
    expect(apiMessage).toBeTruthy();
    expect(shown).toBe(apiMessage);

    await page.fill('[name=memory]', '128Mi');
    await page.fill('[name="boot.kernel"]', g.kernel);
    await page.fill('[name="boot.initrd"]', g.initrd);
    await page.fill('[name="boot.cmdline"]', `${g.cmdline} pv.name=web1`);
    await page.fill('[name=description]', 'made in the web UI');
    await page.click('button:has-text("Add disk")');
    await page.fill('[name="disks.0.name"]', 'data');
    await page.fill('[name="disks.0.size"]', '16Mi');
    await page.click('button:has-text("Create")');
    await page.waitForURL(/\/vms\/web1/);
    expect((await d.client.getVm('web1')).spec.description).toBe('made in the web UI');

    // Start: the state changes arrive on the event stream; the page is never reloaded.
    await page.evaluate('window.pvMarker = 42');
    await page.click('button[data-action=start]');
    await page.waitForSelector('.vm-head [data-testid=vm-state]:text-is("running")', { timeout: limit('state', 2) });
    expect(await page.evaluate('window.pvMarker')).toBe(42);
    await waitForLine(d.client, 'web1', READY);

    // The guest tab: the agent's heartbeat and what the guest says about itself (read again every 10 s until the agent answers).
    await page.click('role=tab[name=guest]');
    await page.waitForSelector('[data-testid=agent-heartbeat]:has-text("answering (")', { timeout: limit('state', 2) });
    expect(await page.textContent('[data-testid=guest-hostname]')).not.toBe('—');

    // Serial console: keys typed in xterm.js reach the guest's shell, its answer comes back.
    await page.click('role=tab[name=console]');
    await expect.poll(() => page.textContent('[role=status]:has-text("Serial console")'), { timeout: limit('state') }).toContain('attached');
    await page.click('[data-testid=serial-console]');
    await page.keyboard.type('echo pv-$((6*7))-ok\n');
    await expect.poll(() => page.textContent('.xterm-rows'), { timeout: scaled(20_000) }).toContain('pv-42-ok');
    await page.screenshot({ path: path.join(SHOTS, 'vm-console.png') });

    // Snapshots: two, a child under the first; both show in the tree.
    await page.click('role=tab[name=snapshots]');
    for (const [name, description] of [['before-upgrade', 'clean install'], ['after-upgrade', 'packages updated']] as const) {
      await page.fill('[name=snapshot-name]', name);
      await page.fill('[name=snapshot-description]', description);
      await page.click('button:has-text("Take snapshot")');
      await page.waitForSelector(`[data-snapshot="${name}"]`, { timeout: limit('operation') });
    }
    await page.waitForSelector('[data-snapshot="before-upgrade"] [data-snapshot="after-upgrade"] >> text=you are here');
    const listed = await httpCall(d.url, 'GET', '/v1/vms/web1/snapshots', { token: admin });
    expect((listed.json as { snapshots: Array<{ name: string; parent: string | null }> }).snapshots.map((s) => [s.name, s.parent]))
      .toEqual([['before-upgrade', null], ['after-upgrade', 'before-upgrade']]);
    await page.locator('.card:has([data-testid=snapshot-tree])').screenshot({ path: path.join(SHOTS, 'snapshot-tree.png') });

    // Stop asks first; cancelling leaves the VM running.
    await page.click('button[data-action=stop]');
    await page.waitForSelector('dialog.confirm[open]');
    await page.keyboard.press('Escape');
    await page.waitForSelector('dialog.confirm[open]', { state: 'detached' }).catch(() => undefined);
    expect((await d.client.getVm('web1')).state).toBe('running');
    expect((page as Page & { problems: string[] }).problems).toEqual([]);
    await page.context().close();
  });

  it('shows live stats on the dashboard without layout shifts, and fits a phone', async () => {
    await startWeb1();
    await d.client.createVm(guestSpec('web2'));
    await d.client.createVm(guestSpec('web3-stopped'));
    await d.client.action('web2', 'start');
    const page = await logIn(admin);
    await page.evaluate(`window.pvShift = 0;
      new PerformanceObserver((l) => { for (const e of l.getEntries()) if (!e.hadRecentInput) window.pvShift += e.value; })
        .observe({ type: 'layout-shift', buffered: false });`);
    // Two stats samples make a rate; wait for a CPU figure on the running VMs.
    await expect.poll(() => page.evaluate(`[...document.querySelectorAll('tr[data-vm="web1"] td.metric .num')].some((e) => /%/.test(e.textContent))`), { timeout: scaled(30_000) }).toBe(true);
    await page.waitForTimeout(7_000); // a few more samples and state events: nothing may move
    expect(await page.evaluate('window.pvShift')).toBeLessThan(0.01);
    const rows = await page.$$eval('table.vms tbody tr', (trs) => trs.map((t) => [t.getAttribute('data-vm'), t.querySelector('[data-testid=vm-state]')?.textContent]));
    expect(rows).toEqual([['web1', 'running'], ['web2', 'running'], ['web3-stopped', 'created']]);
    await page.screenshot({ path: path.join(SHOTS, 'dashboard.png') });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-phone.png') });
    await page.context().close();
  });

  it('hides what a viewer may not do', async () => {
    // set-up: web1 running with the snapshots the form test takes (after-upgrade under before-upgrade, current)
    await startWeb1();
    const snaps = new SnapshotClient({ endpoint: { socketPath: d.socket } });
    await snaps.create('web1', { name: 'before-upgrade', description: 'clean install' });
    await snaps.create('web1', { name: 'after-upgrade', description: 'packages updated' });
    const page = await logIn(viewer);
    await page.click('text=web1');
    await page.waitForSelector('.vm-head [data-testid=vm-state]:text-is("running")');
    expect(await page.$$('button[data-action]')).toHaveLength(0);
    expect(await page.$('nav >> text=Create VM')).toBeNull();
    await page.click('role=tab[name=snapshots]');
    await page.waitForSelector('[data-snapshot="after-upgrade"]');
    expect(await page.$('button:has-text("revert")')).toBeNull();
    expect(await page.$('text=Take snapshot')).toBeNull();
    // The resize control is there, disabled with the reason.
    await page.click('role=tab[name=summary]');
    expect(await page.getAttribute('[data-resize=cpus] button', 'title')).toBe('needs the vm:operate permission (role operator or admin)');
    expect(await page.isDisabled('[data-resize=balloonMiB] input')).toBe(true);
    await page.click('role=tab[name=snapshots]');
    // A snapshot taken and deleted by another client (the CLI, a script) shows in the open tree without a reload.
    expect((await httpCall(d.url, 'POST', '/v1/vms/web1/snapshots', { token: admin, body: { name: 'from-script', ram: false } })).status).toBe(201);
    await page.waitForSelector('[data-snapshot="after-upgrade"] [data-snapshot="from-script"]', { timeout: limit('operation', 0.5) });
    expect((await httpCall(d.url, 'DELETE', '/v1/vms/web1/snapshots/from-script', { token: admin })).status).toBeLessThan(300);
    await page.waitForSelector('[data-snapshot="from-script"]', { state: 'detached', timeout: limit('operation', 0.5) });
    await page.click('role=tab[name=console]');
    await page.waitForSelector('text=Your role may not attach to consoles');
    await page.context().close();
    // Hiding is a convenience: the API refuses the viewer anyway.
    expect((await httpCall(d.url, 'POST', '/v1/vms/web1/stop', { token: viewer, body: {} })).status).toBe(403);
  });

  it('edits and clones a VM through the form, and shows storage and operations', async () => {
    // set-up: the stopped VM to edit, and a VM start for the operations page to list
    await d.client.createVm(guestSpec('web3-stopped'));
    await startWeb1();
    const page = await logIn(admin);
    // The running web1's balloon through the resize control (POST /v1/vms/web1/resize), then back to all of it.
    await page.goto(`${d.url}/vms/web1`);
    await page.fill('[data-resize=balloonMiB] input', '112');
    await page.click('[data-resize=balloonMiB] button');
    await page.waitForSelector('[data-testid=resize-done]:has-text("changed: balloon")', { timeout: limit('operation') });
    expect(await page.textContent('[data-testid=resize-done]')).toMatch(/^Live: 1 of 1 vCPUs, 128 of 128 MiB, balloon \d+ MiB/);
    await d.client.resizeVm('web1', { balloonMiB: 128 });
    await page.goto(`${d.url}/vms/web3-stopped`);
    await page.click('a:has-text("edit")');
    await page.waitForSelector('[name=memory]');
    expect(await page.inputValue('[name=memory]')).toBe('128Mi');
    await page.fill('[name=description]', 'edited in the browser');
    await page.fill('[name=memory]', '96Mi');
    await page.click('button:has-text("Save")');
    await page.waitForURL(/\/vms\/web3-stopped(#|$)/);
    expect((await d.client.getVm('web3-stopped')).spec).toMatchObject({ description: 'edited in the browser', memory: 96 * 1024 ** 2 });

    // The VM's spec answers late, as on a loaded host: the clone form must wait for it (it once showed an empty
    // form first, and a CI run read an empty name from it).
    const late = '**/v1/vms/web3-stopped';
    await page.route(late, async (route) => {
      if (route.request().method() === 'GET') await new Promise((r) => setTimeout(r, 1_500));
      await route.continue();
    });
    await page.click('a:has-text("clone")');
    await page.waitForSelector('[name=memory]');
    expect(await page.inputValue('[name=name]')).toBe('web3-stopped-copy');
    await page.unroute(late);
    await page.click('button:has-text("Create")');
    await page.waitForURL(/\/vms\/web3-stopped-copy/);
    expect((await d.client.getVm('web3-stopped-copy')).spec).toMatchObject({ description: 'edited in the browser', memory: 96 * 1024 ** 2 });

    await page.click('nav >> text=Storage');
    await page.waitForSelector('text=Pools');
    await page.waitForSelector('td:has-text("default")');
    // Import an image with its checksum: a progress bar, then the library lists it as verified.
    const img = path.join(d.stateDir, 'import-me.qcow2');
    expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', img, '32M']).status).toBe(0);
    const sha = createHash('sha256').update(readFileSync(img)).digest('hex');
    await page.fill('form[aria-label="Import an image"] >> label:has-text("Name") >> input', 'tiny');
    await page.fill('form[aria-label="Import an image"] >> label:has-text("URL or host path") >> input', img);
    await page.fill('form[aria-label="Import an image"] >> label:has-text("Checksum") >> input', `sha256:${sha}`);
    await page.click('button:has-text("Import")');
    await page.waitForSelector('progress[aria-label="import progress"]');
    await page.waitForSelector('tr:has-text("tiny"):has-text("verified")', { timeout: scaled(60_000) });
    await page.click('nav >> text=Tasks');
    await page.waitForSelector('tr:has-text("vm.start"):has-text("succeeded")');
    await page.context().close();
  });

  it('backs up, verifies and restores a VM from the page', async () => {
    await startWeb1();
    const page = await logIn(admin);
    await page.goto(`${d.url}/vms/web1#backups`);
    await page.click('button:has-text("Back up now")');
    await page.waitForSelector('[role=status]:has-text("taken")', { timeout: limit('operation') });
    const [backup] = (await httpCall(d.url, 'GET', '/v1/vms/web1/backups', { token: admin })).json as Array<{ id: string }>;
    expect(backup).toBeDefined();
    await page.click(`tr:has-text("${backup!.id}") >> button:has-text("verify")`);
    await page.waitForSelector(`[role=status]:has-text("${backup!.id} verified")`, { timeout: limit('operation', 0.5) });
    await d.client.action('web1', 'kill');
    await page.waitForSelector('.vm-head [data-testid=vm-state]:text-is("stopped")');
    await page.click(`tr:has-text("${backup!.id}") >> button:has-text("restore")`);
    await page.click('[data-testid=confirm-yes]');
    await page.waitForSelector(`[role=status]:has-text("Restored web1 from ${backup!.id}")`, { timeout: limit('operation') });
    await page.context().close();
  });

  it('shows the graphical console and live-migrates with a progress bar', async () => {
    // 262084Ki: QEMU 7.2 under TCG may corrupt guests whose RAM is a multiple of 256 KiB (docs/migration.md).
    await d.client.createVm(guestSpec('web-mig', { memory: '262084Ki', display: { vnc: true } }));
    await d.client.action('web-mig', 'start');
    await waitForLine(d.client, 'web-mig', READY);
    const page = await logIn(admin);
    await page.goto(`${d.url}/vms/web-mig#display`);
    await page.waitForSelector('[role=status]:has-text("Display: connected")', { timeout: limit('state') });
    expect(await page.$('[data-testid=vnc-display] canvas')).not.toBeNull();
    const pidBefore = (await d.client.getVm('web-mig')).runtime?.pid;
    await page.click('role=tab[name=migration]');
    await page.click('button:has-text("Migrate")');
    await page.waitForSelector('progress[aria-label="migration progress"]');
    await page.waitForSelector('[role=status]:has-text("Migrated")', { timeout: limit('operation') });
    expect(await page.getAttribute('progress[aria-label="migration progress"]', 'value')).toBe('1');
    const after = await d.client.getVm('web-mig');
    expect(after.state).toBe('running');
    expect(after.runtime?.pid).not.toBe(pidBefore);
    await d.client.action('web-mig', 'kill');
    await page.context().close();
  });

  it('drives the VM from the keyboard alone', async () => {
    await d.client.createVm(guestSpec('web2'));
    await d.client.action('web2', 'start');
    const page = await logIn(admin);
    // Tab to the first VM link and open it with Enter.
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate("document.activeElement?.textContent === 'web2'")) break;
    }
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/vms\/web2/);
    await page.focus('button[data-action=kill]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('dialog.confirm[open]');
    // Focus starts on Cancel: Tab to the confirm button, Enter.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    try {
      await page.waitForSelector('.vm-head [data-testid=vm-state]:text-is("stopped")', { timeout: limit('state') });
    } catch (err) {
      // Say what the daemon and the page held (a CI run once timed out here with nothing to go on).
      const api = await d.client.getVm('web2').then((v) => `${v.state} (${v.stateReason ?? ''})`, (e: Error) => e.message);
      const shown = await page.evaluate("[...document.querySelectorAll('.vm-head, [role=alert], [role=status], dialog')].map((e) => e.tagName + ': ' + e.textContent).join(' | ')");
      throw new Error(`${(err as Error).message}\nthe API says web2 is ${api}; the page shows ${String(shown)}`);
    }
    await page.context().close();
  });
});
