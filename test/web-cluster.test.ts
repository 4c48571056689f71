/**
 * The web cluster view (issue 19) in Debian's Chromium against a real
 * cluster: one etcd member (scripts/etcd.sh), h1 on 127.0.0.1 and h2 on
 * 127.0.0.2 made a cluster by `cluster init` and `cluster join`, as
 * test/cluster-forward does. An admin on h1's UI sees both hosts with their
 * state and capacity bars, cordons h2 (its card says cordoned, and h1's VM
 * then has no host to move to), uncordons it, and moves a created VM to h2
 * with the Move control (an offline move by the daemons; the VM's record
 * names h2 after). A viewer sees the buttons disabled with the permission
 * they need. axe-core on the page.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newUuid } from '../src/shared/index.js';
import { axeProblems, launchChromium, logInWebUi, type WatchedPage } from './helpers/browser.js';
import { startDaemon, type TestDaemon } from './helpers/daemon.js';
import { startEtcd, type TestEtcd } from './helpers/etcd.js';
import { runCli } from './helpers/http.js';
import { killClusterHosts } from './helpers/cluster-hosts.js';
import { limit } from './helpers/limits.js';

let etcd: TestEtcd;
let h1: TestDaemon;
let h2: TestDaemon;
let browser: Browser;
const stateDirs: string[] = [];
const H2_ARGS = ['--host-name', 'h2', '--listen', '127.0.0.2:0'];

const ok = async (d: TestDaemon, args: string[]) => {
  const r = await runCli(['--socket', d.socket, ...args]);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};
const restart = async (d: TestDaemon, extraArgs: string[]): Promise<TestDaemon> => {
  await d.stop();
  return startDaemon({ stateDir: d.stateDir, extraArgs });
};
const tokenOf = async (name: string, role: string) => (JSON.parse(await ok(h1, ['token', 'create', name, '--role', role, '--json'])) as { token: string }).token;

async function openCluster(page: WatchedPage): Promise<void> {
  await page.goto(`${h1.url}/cluster`);
  await page.waitForSelector('[data-host=h2]', { timeout: 15_000 }).catch(async (e: unknown) => {
    throw new Error(`${String(e)}\n${(await page.textContent('body').catch(() => '?'))?.slice(0, 1500)}\n${page.problems.join('\n')}`);
  });
}

beforeAll(async () => {
  etcd = await startEtcd(1, 'webc');
  h1 = await startDaemon({ extraArgs: ['--host-name', 'h1'] });
  h2 = await startDaemon({ extraArgs: H2_ARGS });
  stateDirs.push(h1.stateDir, h2.stateDir);
  await ok(h1, ['cluster', 'init', '--etcd', etcd.endpoints.join(','), '--prefix', `/pv-webc-${newUuid()}/`]);
  h1 = await restart(h1, ['--host-name', 'h1']);
  const join = (JSON.parse(await ok(h1, ['cluster', 'token', 'create', '--ttl', '10m', '--json'])) as { token: string }).token;
  await ok(h2, ['cluster', 'join', h1.url, '--token', join]);
  h2 = await restart(h2, H2_ARGS);
  browser = await launchChromium();
}, 6 * limit('daemon'));

afterAll(async () => {
  await browser?.close();
  await killClusterHosts([h1, h2], stateDirs);
  etcd?.stop();
});

it('an admin sees both hosts, cordons and uncordons h2, and moves a VM to h2; a viewer sees why not', async () => {
  await h1.client.createVm({ name: 'c1', memory: '64Mi', disks: [{ name: 'root', size: '16Mi' }] });
  const page = await logInWebUi(browser, h1.url, await tokenOf('web-admin', 'admin'));
  await openCluster(page);
  expect(await page.getAttribute('[data-host=h1] [data-state]', 'data-state')).toBe('ready');
  expect(await page.getAttribute('[data-host=h2] [data-state]', 'data-state')).toBe('ready');
  expect(await page.textContent('[data-host=h1] [data-resource=CPU]')).toMatch(/0 of \d+ CPUs/);
  expect(await page.textContent('[data-host=h1] [data-resource=Memory]')).toMatch(/GiB of [\d.]+ GiB/);
  expect(await page.textContent('[data-host=h1] [data-vm=c1]')).toContain('created');
  expect(await page.textContent('[data-host=h2] .host-vms')).toBe('no VMs');

  // Cordon h2: its card says so, and c1 has no other ready host to move to.
  await page.click('[data-host=h2] button:text-is("Cordon")');
  await page.waitForSelector('[data-host=h2] h3 [data-state=cordoned]');
  expect((await h1.client.getVm('c1')).host).toBe('h1');
  expect(await page.getAttribute('[data-vm=c1] button:text-is("Move")', 'title')).toBe('no other ready host');
  await page.click('[data-host=h2] button:text-is("Uncordon")');
  await page.waitForSelector('[data-host=h2] h3 [data-state=ready]');

  // Move c1 to h2 (stopped: an offline move of its disk); the record names h2 after.
  await page.waitForSelector('[data-vm=c1] button:text-is("Move"):not([disabled])');
  await page.selectOption('[data-vm=c1] select', 'h2');
  await page.click('[data-vm=c1] button:text-is("Move")');
  await page.waitForSelector('[role=status]:has-text("c1 moved to h2")', { timeout: 60_000 }).catch(async (e: unknown) => {
    throw new Error(`${String(e)}\n${(await page.textContent('body').catch(() => '?'))?.slice(0, 1500)}`);
  });
  expect((await h2.client.getVm('c1')).host).toBe('h2');
  await page.waitForSelector('[data-host=h2] [data-vm=c1]'); // every host's VMs by name (GET /v1/vms?hosts=all)
  expect(await page.textContent('[data-host=h1] .host-vms')).toBe('no VMs');
  expect(await axeProblems(page)).toEqual([]);
  expect(page.problems).toEqual([]);

  // A viewer: the host buttons are disabled with the permission they need (no VMs on h1 any more to move).
  const look = await logInWebUi(browser, h1.url, await tokenOf('web-viewer', 'viewer'));
  await openCluster(look);
  for (const b of ['Cordon', 'Uncordon', 'Drain']) {
    const sel = `[data-host=h2] button:text-is("${b}")`;
    expect(await look.isDisabled(sel)).toBe(true);
    expect(await look.getAttribute(sel, 'title')).toBe('needs the host:admin permission (role admin)');
  }
}, 4 * limit('daemon'));
