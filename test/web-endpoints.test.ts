/**
 * The endpoints page and tree (issue 17's web parts) in Debian's Chromium
 * against a real daemon and a Proxmox VE stand-in over HTTPS (test/fakes/proxmox,
 * on 127.0.0.1): add an endpoint with a driver picked from GET /v1/drivers and
 * an API token typed once (a wrong one refused with the daemon's message and
 * nothing kept; the token never in the page or an answer), its status, the
 * VMs of every endpoint with a driver badge and only the actions its driver
 * allows from each VM's state, a start that reaches the hypervisor, the tree
 * (Endpoints → pve → its VMs), test, remove (asked first), a viewer without
 * the admin's and operator's controls, axe-core, screenshots.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PlatformClient } from '../src/client/index.js';
import { axeProblems, launchChromium, logInWebUi } from './helpers/browser.js';
import { ROOT, killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { httpCall } from './helpers/http.js';
import { removeAllVms } from './helpers/isolate.js';
import { testGuest } from './helpers/guest.js';
import { FAKE_TOKEN, startFakeProxmox, type FakeProxmox } from './fakes/proxmox/server.js';

const SHOTS = path.join(ROOT, 'docs', 'screenshots');
let d: TestDaemon;
let fake: FakeProxmox;
let browser: Browser;
let admin: string;
let viewer: string;

beforeAll(async () => {
  fake = await startFakeProxmox({ stepMs: 20, nodes: ['pve1'], vms: [
    { vmid: 100, node: 'pve1', name: 'web', cores: 2, memoryMiB: 2048 },
    { vmid: 101, node: 'pve1', name: 'db', cores: 4, memoryMiB: 4096, running: true },
  ] });
  d = await startDaemon();
  const p = new PlatformClient({ endpoint: { socketPath: d.socket } });
  admin = (await p.createToken('ep-admin', 'admin')).token;
  viewer = (await p.createToken('ep-viewer', 'viewer')).token;
  await d.client.createVm({ name: 'loc', memory: '64Mi', boot: { kernel: testGuest().kernel } });
  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  if (d) await removeAllVms(d);
  await d?.stop();
  if (d) killQemusUnder(d.stateDir);
  await fake?.stop();
});

it('adds a Proxmox VE endpoint with a token typed once, lists every endpoint\'s VMs with their driver and allowed actions, starts one, tests and removes the endpoint', async () => {
  const page = await logInWebUi(browser, d.url, admin);
  await page.click('h1');
  await page.keyboard.press('e');
  await page.waitForURL(/\/endpoints$/);
  await page.waitForSelector('[data-testid=no-endpoints]');
  expect(await page.$$eval('#ep-driver option', (o) => o.map((x) => x.getAttribute('value')))).toContain('proxmox');

  // A wrong token: the daemon's refusal is shown, the secret field is emptied, nothing is kept.
  await page.fill('#ep-name', 'pve');
  await page.selectOption('#ep-driver', 'proxmox');
  await page.fill('#ep-url', fake.url);
  await page.check('input[name=ep-login][value=token]');
  await page.fill('#ep-secret', 'root@pam!polyvisor=wrong-secret');
  await page.fill('#ep-ca', fake.ca);
  await page.click('button:text-is("Add")');
  await page.waitForSelector('[data-testid=add-endpoint-error]');
  expect(await page.textContent('[data-testid=add-endpoint-error]')).toContain('refused the credentials');
  expect(await page.inputValue('#ep-secret')).toBe('');
  expect((await httpCall(d.url, 'GET', '/v1/endpoints', { token: admin })).json).toEqual([]);

  // The right one: added, reachable, and the token is nowhere to be read back.
  await page.fill('#ep-secret', FAKE_TOKEN);
  await page.click('button:text-is("Add")');
  await page.waitForSelector('tr[data-endpoint=pve]');
  expect(await page.textContent('tr[data-endpoint=pve] [data-testid=endpoint-status]')).toMatch(/Proxmox VE .* 1 host · 2 VMs/);
  expect(await page.inputValue('#ep-secret')).toBe('');
  const secretPart = FAKE_TOKEN.split('=')[1]!;
  expect(await page.content()).not.toContain(secretPart);
  expect(JSON.stringify((await httpCall(d.url, 'GET', '/v1/endpoints', { token: admin })).json)).not.toContain(secretPart);

  // Every endpoint's VMs, each with its driver; the buttons are those its driver allows from its state.
  await page.waitForSelector('tr[data-ref="pve/web"]');
  const badge = (ref: string) => page.textContent(`tr[data-ref="${ref}"] [data-testid=driver-badge]`);
  expect(await badge('pve/web')).toBe('proxmox');
  expect(await badge('loc')).toBe('qemu');
  const buttons = (ref: string) => page.$$eval(`tr[data-ref="${ref}"] button[data-action]`, (b) => b.map((x) => x.getAttribute('data-action')));
  expect(await buttons('pve/web')).toContain('start');
  expect(await buttons('pve/web')).not.toContain('stop');
  expect(await buttons('pve/db')).toEqual(expect.arrayContaining(['stop', 'kill']));
  expect(await buttons('pve/db')).not.toContain('start');
  expect(await buttons('loc')).toEqual([]); // this daemon's VMs act from their own page
  expect(await page.getAttribute('tr[data-ref="loc"] a', 'href')).toBe('/vms/loc');

  // The tree: Endpoints → pve (its driver and VM count) → its VMs; local VMs stay under Datacenter.
  await page.waitForSelector('#resource-tree a[data-node="endpoint/pve"]');
  expect(await page.textContent('#resource-tree a[data-node="endpoint/pve"] .tn-note')).toBe('proxmox · 2');
  expect(await page.$$eval('#resource-tree a[data-kind=foreign-vm] .tn-label', (a) => a.map((x) => x.textContent))).toEqual(['db', 'web']);
  expect(await axeProblems(page)).toEqual([]);
  await page.screenshot({ path: path.join(SHOTS, 'endpoints-desktop.png'), fullPage: true });

  // Start pve/web: a toast with its task; the hypervisor runs it; the list follows after a refresh.
  await page.click('tr[data-ref="pve/web"] button[data-action=start]');
  await page.waitForSelector('[data-testid=toast]:has-text("start of pve/web requested")');
  await expect.poll(() => [...fake.cluster.vms.values()].find((v) => v.conf['name'] === 'web')?.status, { timeout: 30_000 }).toBe('running');
  await expect.poll(async () => {
    await page.click('button:text-is("refresh")');
    return page.textContent('tr[data-ref="pve/web"] .state');
  }, { timeout: 30_000 }).toBe('running');
  expect(await buttons('pve/web')).not.toContain('start');

  // Test: a fresh status; remove: asked first, then gone (the VMs on Proxmox are not touched).
  await page.click('tr[data-endpoint=pve] button:text-is("test")');
  await page.waitForSelector('[data-testid=toast]:has-text("pve: Proxmox VE")');
  await page.click('tr[data-endpoint=pve] button:text-is("remove")');
  await page.waitForSelector('dialog.confirm[open]');
  expect(await page.textContent('dialog.confirm[open]')).toContain('Its VMs are not touched');
  await page.click('dialog.confirm[open] button:text-is("Remove")');
  await page.waitForSelector('tr[data-endpoint=pve]', { state: 'detached' });
  expect([...fake.cluster.vms.values()].find((v) => v.conf['name'] === 'web')?.status).toBe('running');
  // The browser logs the refused add's answer (502: the hypervisor refused the credentials); nothing else.
  expect(page.problems.filter((p) => !p.includes('status of 502'))).toEqual([]);
  await page.context().close();
}, 300_000);

it('a viewer sees endpoints and their VMs, without the add form, remove, or action buttons', async () => {
  await httpCall(d.url, 'POST', '/v1/endpoints', { token: admin, body: { name: 'pve2', driver: 'proxmox', url: fake.url, token: FAKE_TOKEN, ca: fake.ca } });
  const page = await logInWebUi(browser, d.url, viewer, 390);
  await page.goto(`${d.url}/endpoints`);
  await page.waitForSelector('tr[data-ref="pve2/db"]');
  expect(await page.$('[data-testid=add-endpoint]')).toBeNull();
  expect(await page.$('tr[data-endpoint=pve2] button:text-is("remove")')).toBeNull();
  expect(await page.$$('button[data-action]')).toEqual([]);
  expect(await axeProblems(page)).toEqual([]);
  await page.screenshot({ path: path.join(SHOTS, 'endpoints-phone.png'), fullPage: true });
  expect(page.problems).toEqual([]);
  await page.context().close();
  await httpCall(d.url, 'DELETE', '/v1/endpoints/pve2', { token: admin });
}, 300_000);
