/**
 * The resource tree with a big fleet, in Debian's Chromium against a real
 * daemon (VMs created, none started: no QEMU): past WINDOW_FROM VMs under a
 * host, only the rows in view are in the document, scrolling brings the
 * others, the first VM stays first (Enter opens it), search still finds any
 * VM, and the page stays accessible.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PlatformClient } from '../src/client/index.js';
import { axeProblems, launchChromium, logInWebUi } from './helpers/browser.js';
import { killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { removeAllVms } from './helpers/isolate.js';
import { testGuest } from './helpers/guest.js';

const N = 150;
let d: TestDaemon;
let browser: Browser;
let viewer: string;
const name = (i: number): string => `tree-${String(i).padStart(3, '0')}`;

beforeAll(async () => {
  d = await startDaemon();
  viewer = (await new PlatformClient({ endpoint: { socketPath: d.socket } }).createToken('tree-viewer', 'viewer')).token;
  const g = testGuest();
  for (let i = 0; i < N; i += 10) {
    await Promise.all(Array.from({ length: 10 }, (_, j) => d.client.createVm({ name: name(i + j), memory: '64Mi', boot: { kernel: g.kernel } })));
  }
  browser = await launchChromium();
}, 300_000);
afterAll(async () => {
  await browser?.close();
  if (d) await removeAllVms(d);
  await d?.stop();
  if (d) killQemusUnder(d.stateDir);
});

const vmLinks = (page: Page) => page.$$eval('#resource-tree a[data-kind=vm]', (as) => as.map((a) => a.querySelector('.tn-label')?.textContent ?? ''));

it(`renders only the visible rows of ${N} VMs, scrolls to the rest, and search and Enter still reach any VM`, async () => {
  const page = await logInWebUi(browser, d.url, viewer);
  await page.waitForSelector(`#resource-tree a[data-node="vm/${name(0)}"]`);
  await page.waitForSelector(`table.vms tbody tr:nth-child(${N})`); // the VM table (not windowed) has them all
  const list = page.locator('#resource-tree ul[data-windowed]');
  expect(await list.getAttribute('data-windowed')).toBe(String(N));
  const first = await vmLinks(page);
  expect(first[0]).toBe(name(0));
  expect(first.length).toBeLessThan(N / 2);
  // The spacers keep the list as tall as all its rows, so the scrollbar is true.
  const rowH = await page.$eval(`#resource-tree a[data-node="vm/${name(1)}"]`, (a) => a.closest('li')!.getBoundingClientRect().height);
  const height = await list.evaluate((ul) => ul.getBoundingClientRect().height);
  expect(Math.abs(height - rowH * N), `list ${height} px for ${N} rows of ${rowH} px`).toBeLessThan(rowH);
  expect(first).not.toContain(name(N - 1));

  // Scrolling the tree pane to its end brings the last VMs in, and the first row stays.
  await page.$eval('#resource-tree', (el) => el.scrollTo(0, el.scrollHeight));
  await page.waitForSelector(`#resource-tree a[data-node="vm/${name(N - 1)}"]`);
  const end = await vmLinks(page);
  expect(end[0]).toBe(name(0));
  expect(end.length).toBeLessThan(N / 2);
  expect(await axeProblems(page)).toEqual([]);

  // Search narrows to a VM far down the list; Enter opens the first match.
  await page.$eval('#resource-tree', (el) => el.scrollTo(0, 0));
  await page.click('h1');
  await page.keyboard.press('/');
  await page.keyboard.type(name(N - 2));
  expect(await vmLinks(page)).toEqual([name(N - 2)]);
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`/vms/${name(N - 2)}$`));
  await page.fill('#tree-search', '');
  expect(await page.getAttribute(`#resource-tree a[data-node="vm/${name(0)}"]`, 'data-kind')).toBe('vm');
  expect(page.problems).toEqual([]);
  await page.context().close();
}, 300_000);
