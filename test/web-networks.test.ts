/**
 * The networks page and tree (issue 18's web part) in Debian's Chromium
 * against a real daemon. The daemon runs inside a network namespace this test
 * creates (its bridges, dnsmasq and nftables with it) and so does Chromium
 * (launched under `ip netns exec`): nothing touches the test runner's own
 * namespace. An admin creates a NAT network from the form (a bad subnet
 * refused with the daemon's message, nothing created), opens it, sees a
 * test guest's NIC with its reserved address and then its DHCP lease, is
 * refused removal while the VM uses it, and removes it once the VM is gone
 * (the bridge leaves the namespace); a viewer sees the networks without the
 * admin's controls; axe-core.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NetworkClient, PlatformClient } from '../src/client/index.js';
import { axeProblems, launchChromium, logInWebUi } from './helpers/browser.js';
import { killQemusUnder, startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { limit } from './helpers/limits.js';
import { NetnsLab } from './helpers/netns.js';
import { READY, guestSpec, waitForLine } from './helpers/vm.js';
import { guestShell } from './helpers/shell.js';

const lab = new NetnsLab();
let ns = '';
let stateDir = '';
let d: TestDaemon;
let browser: Browser;
let admin: string;
let viewer: string;

beforeAll(async () => {
  ns = await lab.add('web');
  stateDir = tempStateDir('netw');
  d = await startDaemon({ stateDir, netns: ns, env: { POLYVISOR_DEFAULT_NETWORK: '0' } });
  const p = new PlatformClient({ endpoint: { socketPath: d.socket } });
  admin = (await p.createToken('net-admin', 'admin')).token;
  viewer = (await p.createToken('net-viewer', 'viewer')).token;
  browser = await launchChromium({ netns: ns });
}, limit('daemon') + 60_000);
afterAll(async () => {
  await browser?.close();
  await d?.stop();
  if (stateDir) killQemusUnder(stateDir);
  await lab.cleanup();
});

it('creates a NAT network from the form, shows a guest\'s NIC and lease, refuses removal while in use, removes it after', async () => {
  const page = await logInWebUi(browser, d.url, admin);
  await page.goto(`${d.url}/networks`);
  await page.waitForSelector('[data-testid=no-networks]', { timeout: 10_000 }).catch(async (e: unknown) => {
    throw new Error(`${String(e)}\n${(await page.textContent('body').catch(() => '?'))?.slice(0, 1500)}\n${page.problems.join('\n')}`);
  });

  // A subnet that is not a CIDR: the daemon's message under the form, nothing created.
  await page.fill('#net-name', 'webn');
  await page.fill('#net-subnet', '10.300.0.0/24');
  await page.click('form[aria-label="Create a network"] button:text-is("Create")');
  await page.waitForSelector('[data-testid=network-error]');
  expect(await page.textContent('[data-testid=network-error]')).toMatch(/subnet/i);
  expect((await lab.exec(ns, 'ip', ['-o', 'link'])).stdout).not.toContain('pvbr-webn');

  await page.fill('#net-subnet', '10.123.77.0/24');
  await page.click('form[aria-label="Create a network"] button:text-is("Create")');
  await page.waitForURL(/\/networks\?network=webn$/);
  await page.waitForSelector('[data-testid=network-detail][data-network=webn] >> text=10.123.77.0/24');
  expect((await lab.exec(ns, 'ip', ['-4', 'addr', 'show', 'dev', 'pvbr-webn'])).stdout).toContain('10.123.77.1/24');
  // The tree lists it under Networks.
  await page.waitForSelector('#resource-tree a[href="/networks?network=webn"]');

  // A guest on it: its NIC with the reserved address, then its lease from dnsmasq.
  await d.client.createVm(guestSpec('wn1', { networks: [{ network: 'webn' }] } as never, 'pv.net=dhcp'));
  await d.client.action('wn1', 'start');
  await waitForLine(d.client, 'wn1', READY);
  await guestShell(d.client, 'wn1', 'ip -4 -o addr show dev eth0 | grep -q inet || udhcpc -i eth0 -n -q -t 10 -T 2 -s /usr/share/udhcpc/default.script >/dev/null 2>&1');
  await page.waitForSelector('[data-testid=network-nics] tr[data-vm=wn1]', { timeout: limit('state') });
  const ip = (await page.textContent('[data-testid=network-nics] tr[data-vm=wn1] td:nth-child(4)'))?.trim() ?? '';
  expect(ip).toMatch(/^10\.123\.77\.\d+$/);
  await page.waitForSelector(`[data-testid=network-leases] tr[data-ip="${ip}"]`, { timeout: limit('state') });
  expect(await axeProblems(page)).toEqual([]);

  // Removal while the VM uses it: asked first, then refused with the daemon's message naming the VM.
  await page.click('tr[data-network=webn] button:text-is("remove")');
  await page.click('dialog.confirm[open] button:text-is("Remove")');
  await page.waitForSelector('[data-testid=networks-error]');
  expect(await page.textContent('[data-testid=networks-error]')).toContain('wn1');

  await d.client.removeVm('wn1', { force: true });
  await page.click('tr[data-network=webn] button:text-is("remove")');
  await page.click('dialog.confirm[open] button:text-is("Remove")');
  await page.waitForSelector('[data-testid=no-networks]');
  expect((await lab.exec(ns, 'ip', ['-o', 'link'])).stdout).not.toContain('pvbr-webn');
  expect(page.problems).toEqual([]);
  await page.context().close();
}, limit('boot', 3));

it('a viewer sees the networks without the admin\'s controls', async () => {
  const a = await logInWebUi(browser, d.url, admin);
  await a.goto(`${d.url}/networks`);
  await a.fill('#net-name', 'viewn');
  await a.click('form[aria-label="Create a network"] button:text-is("Create")');
  await a.waitForURL(/network=viewn$/);
  await a.context().close();
  const page = await logInWebUi(browser, d.url, viewer);
  await page.goto(`${d.url}/networks`);
  await page.waitForSelector('tr[data-network=viewn]');
  expect(await page.$$('form[aria-label="Create a network"]')).toHaveLength(0);
  expect(await page.$$('tr[data-network=viewn] button')).toHaveLength(0);
  await page.context().close();
  await new NetworkClient({ endpoint: { socketPath: d.socket } }).remove('viewn');
});
