/**
 * The stacks page and tree (issue 21's web part) in Debian's Chromium
 * against a real daemon (real QEMU, TCG; no virtual networks, so nothing
 * outside 127.0.0.1). An admin pastes a stack file: a cycle is refused
 * with the cycle named and nothing planned; a good file is planned (the plan
 * text, the dependency graph in levels) before anything changes, applied
 * after a confirmation and followed step by step; the stack's page lists its
 * members with state and readiness and the graph; destroy asks first, then
 * removes the stack's VMs and leaves a VM outside the stack. A viewer sees
 * the stack without apply or destroy; axe-core on the page.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PlatformClient } from '../src/client/index.js';
import { axeProblems, launchChromium, logInWebUi, type WatchedPage } from './helpers/browser.js';
import { killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { limit } from './helpers/limits.js';
import { guestSpec } from './helpers/vm.js';

let d: TestDaemon;
let browser: Browser;
let admin: string;
let viewer: string;

const member = (memory: string): Record<string, unknown> => {
  const { name: _n, ...rest } = guestSpec('x', { memory });
  return rest;
};

beforeAll(async () => {
  d = await startDaemon();
  const p = new PlatformClient({ endpoint: { socketPath: d.socket } });
  // Admin: the test guest boots a kernel from a host path, which the path policy allows an admin only (as POST /v1/vms).
  admin = (await p.createToken('stack-admin', 'admin')).token;
  viewer = (await p.createToken('stack-viewer', 'viewer')).token;
  await d.client.createVm(guestSpec('outside'));
  browser = await launchChromium();
}, limit('daemon') + 60_000);
afterAll(async () => {
  await browser?.close();
  await d?.stop();
  if (d) killQemusUnder(d.stateDir);
});

async function waitFor(page: WatchedPage, selector: string, timeout = 10_000): Promise<void> {
  await page.waitForSelector(selector, { timeout }).catch(async (e: unknown) => {
    throw new Error(`${String(e)}\n${(await page.textContent('main, body').catch(() => '?'))?.slice(0, 2000)}\n${page.problems.join('\n')}`);
  });
}

it('plans a stack file before applying it, shows members, readiness and the graph, destroys after asking', async () => {
  const page = await logInWebUi(browser, d.url, admin);
  await page.goto(`${d.url}/stacks`);
  await waitFor(page, '[data-testid=no-stacks]');

  // A cycle: refused with the cycle named, no plan, nothing made.
  await page.fill('#stack-file', stringify({ name: 'cyc', vms: { a: { spec: member('64Mi'), depends_on: ['b'] }, b: { spec: member('64Mi'), depends_on: ['a'] } } }));
  await page.click('form[aria-label="Plan a stack file"] button:text-is("Plan")');
  await waitFor(page, '[data-testid=plan-error]');
  expect(await page.textContent('[data-testid=plan-error]')).toContain('depends_on has a cycle: a → b → a');
  expect(await page.$$('[data-testid=stack-plan]')).toHaveLength(0);

  // A good file: db, then app (count 2) after it; the variable given in the form.
  await page.fill('#stack-file', stringify({
    name: 'webstack',
    variables: { mem: '96Mi' },
    vms: { db: { spec: { ...member('64Mi'), memory: '${var.mem}' } }, app: { count: 2, spec: member('64Mi'), depends_on: ['db'] } },
  }));
  await page.fill('#stack-vars', 'mem=80Mi');
  await page.click('form[aria-label="Plan a stack file"] button:text-is("Plan")');
  await waitFor(page, '[data-testid=stack-plan]');
  const plan = (await page.textContent('[data-testid=stack-plan]')) ?? '';
  expect(plan).toContain('+   vm db: create');
  expect(plan).toContain('+   vm app-2 (member app): create');
  expect(plan).toContain('Plan for stack webstack: 3 to create');
  const levels = await page.$$eval('form [data-testid=stack-graph] li[data-level]', (ls) => ls.map((l) => [...l.querySelectorAll('li[data-member]')].map((m) => `${m.getAttribute('data-member')}<${m.getAttribute('data-depends')}`)));
  expect(levels).toEqual([['db<'], ['app<db']]);
  expect((await d.client.listVms()).map((v) => v.name)).toEqual(['outside']); // planning changed nothing

  // Apply: asked first (the dialog shows the plan), then followed to the end; the page moves to the stack.
  await page.click('form[aria-label="Plan a stack file"] button:text-is("Apply")');
  await waitFor(page, 'dialog.confirm[open]');
  expect(await page.textContent('dialog.confirm[open]')).toContain('+   vm db: create');
  await page.click('dialog.confirm[open] button:text-is("Apply")');
  await waitFor(page, '[data-testid=stack-run]:not([data-status=running]), [data-testid=plan-error]', limit('operation'));
  expect(await page.getAttribute('[data-testid=stack-run]', 'data-status').catch(() => null), (await page.textContent('form[aria-label="Plan a stack file"]')) ?? '').toBe('succeeded');
  await page.waitForURL(/\/stacks\?stack=webstack$/);
  await waitFor(page, '[data-testid=stack-detail][data-stack=webstack] tr[data-name=app-2][data-state=running]', limit('state'));
  const rows = await page.$$eval('[data-testid=stack-members] tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? '')));
  expect(rows.map((r) => [r[0], r[1], r[2], r[3], r[5]])).toEqual([
    ['vm', 'db', 'db', 'running', 'n/a'], ['vm', 'app-1', 'app', 'running', 'n/a'], ['vm', 'app-2', 'app', 'running', 'n/a'],
  ]);
  expect((await d.client.getVm('db')).spec.memory).toBe(80 * 1024 ** 2); // the form's variable won over the default
  const graph = await page.$$eval('[data-testid=stack-detail] [data-testid=stack-graph] li[data-member]', (ms) => ms.map((m) => `${m.getAttribute('data-member')}<${m.getAttribute('data-depends')}`));
  expect(graph).toEqual(['db<', 'app<db']);
  await waitFor(page, '#resource-tree a[href="/stacks?stack=webstack"]');
  expect(await axeProblems(page)).toEqual([]);

  // Destroy: cancelling keeps everything; confirming removes the stack's VMs and nothing else.
  await page.click('[data-testid=stack-detail] button:text-is("destroy")');
  await waitFor(page, 'dialog.confirm[open]');
  expect(await page.textContent('dialog.confirm[open]')).toContain('db, app-1, app-2');
  await page.click('dialog.confirm[open] button:text-is("Cancel")');
  expect((await d.client.listVms()).map((v) => v.name).sort()).toEqual(['app-1', 'app-2', 'db', 'outside']);
  await page.click('[data-testid=stack-detail] button:text-is("destroy")');
  await page.click('dialog.confirm[open] button:text-is("Destroy")');
  await waitFor(page, '[data-testid=no-stacks]', limit('operation'));
  expect((await d.client.listVms()).map((v) => v.name)).toEqual(['outside']);
  expect(page.problems).toEqual([]);
  await page.context().close();
}, limit('operation', 3));

it('a viewer sees a stack\'s members and graph, and no apply or destroy', async () => {
  // Applied by the admin's API call; the viewer only looks.
  const res = await fetch(`${d.url}/v1/stacks/apply`, {
    method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ document: { name: 'seen', vms: { solo: { spec: member('64Mi') } } } }),
  });
  expect(res.status).toBe(202);
  const page = await logInWebUi(browser, d.url, viewer);
  await page.goto(`${d.url}/stacks?stack=seen`);
  await waitFor(page, '[data-testid=stack-detail][data-stack=seen] tr[data-name=solo]', limit('state'));
  expect(await page.$$('[data-testid=stack-detail] button:text-is("destroy")')).toHaveLength(0);
  await page.fill('#stack-file', stringify({ name: 'seen', vms: { solo: { spec: member('64Mi') } } }));
  await page.click('form[aria-label="Plan a stack file"] button:text-is("Plan")');
  await waitFor(page, '[data-testid=stack-plan]');
  expect(await page.$$('form[aria-label="Plan a stack file"] button:text-is("Apply")')).toHaveLength(0);
  await page.context().close();
}, limit('operation'));
