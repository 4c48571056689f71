/**
 * The web UI's import page and the VM page's export tab (issue 20's web
 * part) in Debian's Chromium against a real daemon with real qemu-img (no
 * guest boots: the point is the mapping shown, the VM made and the files
 * written). A fixture OVF (test/fixtures/interchange/ovf: VirtualBox 5, IDE
 * disk, PCnet NIC) with a small streamOptimized VMDK made beside it: the
 * dry run shows the mapped spec (IDE disk, e1000 NIC, BIOS, 512 MiB) and
 * exactly the warnings the API gives, each with its element; nothing exists
 * until Import, whose operation ends with a link to the new VM; the VM's
 * export tab writes it as OVF and lists the files on disk and the lossy
 * warnings. A viewer gets the page's reason instead of the form. A file
 * picked on the page is uploaded into the daemon's state folder and checked
 * like a path.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PlatformClient } from '../src/client/index.js';
import { axeProblems, launchChromium, logInWebUi, type WatchedPage } from './helpers/browser.js';
import { ROOT, startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { limit } from './helpers/limits.js';

let d: TestDaemon;
let browser: Browser;
let admin: string;
let viewer: string;
let dir: string;
const FIXTURE = path.join(ROOT, 'test/fixtures/interchange/ovf/virtualbox-5-ide-pcnet.ovf');

beforeAll(async () => {
  dir = tempStateDir('web-ic');
  copyFileSync(FIXTURE, path.join(dir, 'xp-lab.ovf'));
  execFileSync('qemu-img', ['create', '-q', '-f', 'vmdk', '-o', 'subformat=streamOptimized', path.join(dir, 'xp-lab-disk1.vmdk'), '16M']);
  d = await startDaemon();
  const p = new PlatformClient({ endpoint: { socketPath: d.socket } });
  admin = (await p.createToken('ic-admin', 'admin')).token;
  viewer = (await p.createToken('ic-viewer', 'viewer')).token;
  browser = await launchChromium();
}, limit('daemon') + 60_000);
afterAll(async () => {
  await browser?.close();
  await d?.stop();
});

async function waitFor(page: WatchedPage, selector: string, timeout = 10_000): Promise<void> {
  await page.waitForSelector(selector, { timeout }).catch(async (e: unknown) => {
    throw new Error(`${String(e)}\n${(await page.textContent('main, body').catch(() => '?'))?.slice(0, 2000)}\n${page.problems.join('\n')}`);
  });
}

async function asAdmin<T>(method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(`${d.url}${url}`, { method, headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  expect(res.status, url).toBe(200);
  return await res.json() as T;
}

const texts = (page: WatchedPage, sel: string): Promise<string[]> => page.$$eval(sel, (els) => els.map((e) => e.textContent?.trim() ?? ''));

it('checks a fixture OVF (mapping and every warning), imports it after the check, exports it as OVF listing the files', async () => {
  const file = path.join(dir, 'xp-lab.ovf');
  const page = await logInWebUi(browser, d.url, admin);
  await page.goto(`${d.url}/create`);
  await page.click('[data-testid=import-link]'); // the create page offers the import
  await waitFor(page, '#import-path');
  await page.fill('#import-path', file);
  await page.fill('#import-name', 'xplab');
  await page.click('form[aria-label="Import a file"] button:text-is("Check")');
  await waitFor(page, '[data-testid=import-mapping]', limit('operation'));

  // The mapping as the dry run answered it: IDE disk found beside the descriptor, PCnet became e1000, BIOS, 512 MiB.
  expect(await page.textContent('[data-field=name]')).toBe('xplab');
  expect(await page.textContent('[data-field=memory]')).toBe('512 MiB');
  expect(await page.textContent('[data-field=firmware]')).toBe('BIOS');
  expect(await texts(page, '[data-testid=mapping-disks] tbody tr td')).toEqual(['disk0', 'disk', 'ide', path.join(dir, 'xp-lab-disk1.vmdk'), 'yes']);
  expect(await page.getAttribute('[data-testid=mapping-nics] tr[data-nic=net0]', 'data-model')).toBe('e1000');
  // Every warning the API gives for the same request, in order, each with the element it came from.
  const api = await asAdmin<{ warnings: Array<{ source: string; message: string }> }>('POST', '/v1/imports', { path: file, name: 'xplab', dryRun: true });
  const shown = await page.$$eval('[data-testid=mapping-warnings] li', (ls) => ls.map((l) => [l.getAttribute('data-source'), l.textContent]));
  expect(shown).toEqual(api.warnings.map((w) => [w.source, `${w.source}: ${w.message}`]));
  expect(api.warnings.map((w) => w.source)).toContain('VirtualSystem[XP Lab (old)]/VirtualHardwareSection/Item[InstanceID=5]/ResourceSubType');
  expect(await axeProblems(page)).toEqual([]);
  await page.screenshot({ path: path.join(ROOT, 'docs/screenshots/import-check-desktop.png'), fullPage: true });
  expect((await d.client.listVms()).map((v) => v.name)).toEqual([]); // checking made nothing

  // Changing an input hides Import until checked again; then Import runs the operation and links to the VM.
  await page.check('#import-virtio');
  expect(await page.$$('form[aria-label="Import a file"] button:text-is("Import")')).toHaveLength(0);
  await page.uncheck('#import-virtio');
  await page.click('form[aria-label="Import a file"] button:text-is("Check")');
  await page.click('form[aria-label="Import a file"] button:text-is("Import")');
  await waitFor(page, '[data-testid=import-done], [data-testid=op-progress][data-status=failed]', limit('operation'));
  expect(await page.getAttribute('[data-testid=import-run] [data-testid=op-progress]', 'data-status')).toBe('succeeded');
  const vm = await d.client.getVm('xplab');
  expect(vm.spec.disks.map((x) => [x.name, x.bus])).toEqual([['disk0', 'ide']]);
  expect(vm.spec.networks.map((n) => n.model)).toEqual(['e1000']);
  await page.click('[data-testid=import-done] a');
  await page.waitForURL(/\/vms\/xplab/);

  // Export as OVF from the VM page: the files listed are the folder's, the warnings the operation's.
  await page.click('button[role=tab]:text-is("export")');
  await waitFor(page, '#export-format');
  await page.selectOption('#export-format', 'ovf');
  const out = path.join(dir, 'out');
  await page.fill('#export-out', out);
  await page.click('form[aria-label="Export the VM"] button:text-is("Export")');
  await waitFor(page, '[data-testid=export-done], [data-testid=op-progress][data-status=failed]', limit('operation'));
  const files = await page.$$eval('[data-testid=export-files] tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-file')));
  expect([...files].sort()).toEqual(readdirSync(out).sort());
  expect(files).toEqual(expect.arrayContaining(['xplab.ovf', 'xplab.mf', 'SHA256SUMS']));
  const ops = await asAdmin<Array<{ kind: string; result?: { warnings: Array<{ source: string }> } }>>('GET', '/v1/operations');
  const exported = ops.find((o) => o.kind === 'vm.export-config');
  expect(await page.$$eval('[data-testid=export-panel] [data-testid=mapping-warnings] li', (ls) => ls.map((l) => l.getAttribute('data-source'))))
    .toEqual(exported?.result?.warnings.map((w) => w.source));
  await page.screenshot({ path: path.join(ROOT, 'docs/screenshots/vm-export-desktop.png'), fullPage: true });
  expect(await axeProblems(page)).toEqual([]);
  expect(page.problems).toEqual([]);
  await page.context().close();

  // A viewer: the reason, not the form.
  const v = await logInWebUi(browser, d.url, viewer);
  await v.goto(`${d.url}/import`);
  await waitFor(v, '[data-testid=import-not-allowed]');
  expect(await v.textContent('[data-testid=import-not-allowed]')).toContain('storage:write');
  expect(await v.$$('#import-path')).toHaveLength(0);
  await v.context().close();
}, limit('operation', 3));

it('uploads a picked file (POST /v1/import/upload) into the daemon\'s state folder and checks it like a path: a descriptor alone shows its disk missing', async () => {
  const page = await logInWebUi(browser, d.url, admin);
  await page.goto(`${d.url}/import`);
  await waitFor(page, '#import-upload');
  await page.setInputFiles('#import-upload', FIXTURE);
  await waitFor(page, '[data-testid=import-uploaded]', limit('operation'));
  const uploaded = await page.inputValue('#import-path');
  expect(path.dirname(path.dirname(uploaded))).toBe(path.join(d.stateDir, 'uploads'));
  expect(path.basename(uploaded)).toBe('virtualbox-5-ide-pcnet.ovf');
  expect(readFileSync(uploaded)).toEqual(readFileSync(FIXTURE));
  await page.fill('#import-name', 'uploaded');
  await page.click('form[aria-label="Import a file"] button:text-is("Check")');
  await waitFor(page, '[data-testid=import-mapping]', limit('operation'));
  expect(await page.textContent('[data-field=name]')).toBe('uploaded');
  expect((await texts(page, '[data-testid=mapping-disks] tbody tr td')).at(-1)).toBe('missing');
  expect(await axeProblems(page)).toEqual([]);
  expect(page.problems).toEqual([]);
  expect((await d.client.listVms()).map((v) => v.name)).not.toContain('uploaded');
  await page.context().close();
}, limit('operation', 2));
