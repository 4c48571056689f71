/**
 * Issue 18, the firewall editor in Debian's Chromium against a real daemon.
 * The daemon (with its bridges, dnsmasq, nftables and two test guests) and
 * Chromium run inside a network namespace this test creates; nothing touches
 * the test runner's own namespace. An operator opens guest nb's NIC firewall
 * from its network's page, adds "in tcp 80 drop" and saves: the running VM's
 * rule is in `table inet polyvisor` at once and guest na can no longer fetch
 * nb's httpd (ping still passes). Removing the rule and saving opens it
 * again. A viewer sees the rules without the controls.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NetworkClient, NicFirewallClient, PlatformClient } from '../src/client/index.js';
import { axeProblems, launchChromium, logInWebUi } from './helpers/browser.js';
import { killQemusUnder, startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { limit } from './helpers/limits.js';
import { NetnsLab } from './helpers/netns.js';
import { guestShell } from './helpers/shell.js';
import { READY, guestSpec, waitForLine } from './helpers/vm.js';

const lab = new NetnsLab();
let ns = '';
let stateDir = '';
let d: TestDaemon;
let browser: Browser;
let operator: string;
let viewer: string;
let nbIp = '';

const nft = async (): Promise<string> => (await lab.exec(ns, 'nft', ['list', 'table', 'inet', 'polyvisor'])).stdout;
/** na fetches nb's httpd (port 80) with busybox nc; ok when nb's page came back. */
const fetchNb = async (): Promise<boolean> =>
  (await guestShell(d.client, 'na', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${nbIp} 80 | grep -q polyvisor-guest && echo FETCH-OK || echo FETCH-FAIL`)).includes('FETCH-OK');

beforeAll(async () => {
  ns = await lab.add('fw');
  stateDir = tempStateDir('netfw');
  d = await startDaemon({ stateDir, netns: ns, env: { POLYVISOR_DEFAULT_NETWORK: '0' } });
  const p = new PlatformClient({ endpoint: { socketPath: d.socket } });
  operator = (await p.createToken('fw-operator', 'operator')).token;
  viewer = (await p.createToken('fw-viewer', 'viewer')).token;
  await new NetworkClient({ endpoint: { socketPath: d.socket } }).create({ name: 'fwn', mode: 'nat', subnet: '10.123.88.0/24' });
  for (const name of ['na', 'nb']) {
    await d.client.createVm(guestSpec(name, { networks: [{ network: 'fwn' }] } as never, 'pv.net=dhcp'));
    await d.client.action(name, 'start');
  }
  for (const name of ['na', 'nb']) {
    await waitForLine(d.client, name, READY);
    await guestShell(d.client, name, 'ip -4 -o addr show dev eth0 | grep -q inet || udhcpc -i eth0 -n -q -t 10 -T 2 -s /usr/share/udhcpc/default.script >/dev/null 2>&1');
  }
  nbIp = (await new NetworkClient({ endpoint: { socketPath: d.socket } }).show('fwn')).nics.find((n) => n.vm === 'nb')!.ip!;
  browser = await launchChromium({ netns: ns });
}, limit('daemon') + limit('boot', 3) + 60_000);

afterAll(async () => {
  await browser?.close();
  await d?.stop();
  if (stateDir) killQemusUnder(stateDir);
  await lab.cleanup();
});

it('an operator blocks a port between two running guests from the editor, and removing the rule opens it again', async () => {
  expect(await fetchNb()).toBe(true);
  const page = await logInWebUi(browser, d.url, operator);
  await page.goto(`${d.url}/networks?network=fwn`);
  await page.click('[data-testid=network-nics] tr[data-vm=nb] a:text-is("firewall")', { timeout: limit('state') });
  await page.waitForURL(/firewall=nb%2Fnet0$/);
  await page.waitForSelector('[data-testid=firewall-editor][data-vm=nb] [data-testid=firewall-no-rules]');

  await page.selectOption('#fw-dir', 'in');
  await page.selectOption('#fw-proto', 'tcp');
  await page.fill('#fw-port', '80');
  await page.selectOption('#fw-action', 'drop');
  await page.click('form[aria-label="Add a firewall rule"] button:text-is("Add rule")');
  await page.waitForSelector('[data-testid=firewall-rules] tr[data-rule="0"]');
  await page.click('[data-testid=firewall-save]');
  await page.waitForSelector('[data-testid=firewall-editor][data-busy=false][data-dirty=false]');
  expect(await axeProblems(page)).toEqual([]);

  const saved = await new NicFirewallClient({ endpoint: { socketPath: d.socket } }).get('nb', 'net0');
  expect(saved).toMatchObject({ live: true, firewall: { defaultIn: 'accept', defaultOut: 'accept', rules: [{ direction: 'in', protocol: 'tcp', port: 80, action: 'drop', peer: null }] } });
  expect(await nft()).toMatch(/tcp dport 80 drop/);
  expect(await fetchNb()).toBe(false);
  expect(await guestShell(d.client, 'na', `ping -c 1 -W 3 ${nbIp} >/dev/null && echo PING-OK`)).toContain('PING-OK');

  await page.click('[data-testid=firewall-rules] tr[data-rule="0"] button:text-is("remove")');
  await page.waitForSelector('[data-testid=firewall-no-rules]');
  await page.click('[data-testid=firewall-save]');
  await page.waitForSelector('[data-testid=firewall-editor][data-busy=false][data-dirty=false]');
  expect((await new NicFirewallClient({ endpoint: { socketPath: d.socket } }).get('nb', 'net0')).firewall).toBeNull();
  expect(await nft()).not.toMatch(/dport 80/);
  expect(await fetchNb()).toBe(true);
  expect(page.problems).toEqual([]);
  await page.context().close();
}, limit('boot', 2));

it('a bad rule is refused with the daemon\'s message and nothing changes; a viewer reads without controls', async () => {
  const page = await logInWebUi(browser, d.url, operator);
  await page.goto(`${d.url}/networks?network=fwn&firewall=nb%2Fnet0`);
  await page.waitForSelector('[data-testid=firewall-editor] [data-testid=firewall-no-rules]');
  await page.fill('#fw-port', '70000');
  await page.click('form[aria-label="Add a firewall rule"] button:text-is("Add rule")');
  await page.click('[data-testid=firewall-save]');
  await page.waitForSelector('[data-testid=firewall-error]');
  expect(await page.textContent('[data-testid=firewall-error]')).toMatch(/port/);
  expect(await nft()).not.toMatch(/dport 70000/);
  await page.context().close();

  await new NicFirewallClient({ endpoint: { socketPath: d.socket } }).set('nb', 'net0', { defaultIn: 'drop', rules: [{ direction: 'in', action: 'accept', protocol: 'tcp', port: 22 }] });
  const v = await logInWebUi(browser, d.url, viewer);
  await v.goto(`${d.url}/networks?network=fwn&firewall=nb%2Fnet0`);
  await v.waitForSelector('[data-testid=firewall-rules] tr[data-rule="0"]');
  expect(await v.$$('[data-testid=firewall-save]')).toHaveLength(0);
  expect(await v.$$('form[aria-label="Add a firewall rule"]')).toHaveLength(0);
  expect(await v.$$('[data-testid=firewall-rules] button')).toHaveLength(0);
  await v.context().close();
}, 120_000);
