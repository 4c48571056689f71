/**
 * Dashboard ready with a big fleet (run by hand: `bash bench/run.sh web-dashboard`):
 * the web UI's datacenter page (resource tree + VM table) in Debian's
 * Chromium with 200 and 1,000 VMs, cold (new browser context) and warm
 * (reload), "ready" being the page's own `pv-dashboard-ready` mark (first
 * animation frame after the VM table is rendered from the API's answer).
 * Beside it, in the same rounds:
 * - the page of an earlier commit (`BENCH_BEFORE`, default the commit
 *   before the tree was windowed): its web/ built into a temporary folder
 *   beside a copy of this checkout's dist/, so the same daemon code serves
 *   it, with the same VMs in a twin state folder: today's page before this
 *   change;
 * - `GET /v1/vms` from Node (TCP + token, JSON parsed): the floor any page
 *   that shows the list pays.
 * VMs are created (not running: no QEMU) through each daemon's API.
 * Writes the "web-dashboard" section of docs/benchmarks.md.
 *
 * Env: BENCH_ROUNDS (default 5), BENCH_SIZES (default "200,1000"), BENCH_BEFORE (commit; "none" skips it).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { PlatformClient, PolyvisorClient } from '../src/client/index.js';
import { launchChromium } from '../test/helpers/browser.js';
import { loadGuest } from './lib/guest.js';
import { loadNow } from './lib/machine.js';
import { ROOT, startDaemon, stopDaemon, type Daemon } from './lib/polyvisor.js';
import { table, writeSection } from './lib/report.js';
import { ratio, summarize, type Summary } from './lib/stats.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const SIZES = (process.env['BENCH_SIZES'] ?? '200,1000').split(',').map(Number);
/** The frame before the resource tree was windowed (see docs/benchmarks.md for the commit each run used). */
const BEFORE = process.env['BENCH_BEFORE'] ?? 'b82cde2';
const log = (m: string): void => void process.stderr.write(`[web-dashboard] ${m}\n`);
const ms = (s: Summary): string => `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;

interface Site { label: string; daemon: Daemon; url: string; token: string; root: string; client: PolyvisorClient }

/**
 * The daemon of this checkout (a copy of dist/) serving the web UI of `commit`
 * (web/ from `git archive`, built by Vite): only the page differs between the
 * two sites, so the comparison is the UI's own.
 */
function buildBefore(commit: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-bench-before-'));
  log(`building the web UI of ${commit} in ${dir}`);
  execFileSync('bash', ['-c', `git -C "$1" archive "$2" | tar -x -C "$3"`, 'x', ROOT, commit, dir], { stdio: 'inherit' });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true, filter: (src) => !src.startsWith(path.join(ROOT, 'dist', 'web')) });
  execFileSync(process.execPath, ['scripts/build-web.mjs', '--quiet'], { cwd: dir, stdio: 'inherit' });
  if (!existsSync(path.join(dir, 'dist', 'web', 'index.html'))) throw new Error(`the web UI of ${commit} did not build`);
  return dir;
}

async function openSite(label: string, daemonJs: string | undefined): Promise<Site> {
  const root = mkdtempSync(path.join(os.tmpdir(), `pv-bench-dash-${label}-`));
  const daemon = await startDaemon(root, { listen: '127.0.0.1:0', env: { POLYVISOR_API_RATE_LIMIT: '0', POLYVISOR_HISTORY_INTERVAL: '60' }, ...(daemonJs ? { daemonJs } : {}) });
  const url = (JSON.parse(readFileSync(path.join(root, 'daemon.json'), 'utf8')) as { url: string }).url;
  const token = (await new PlatformClient({ endpoint: { socketPath: daemon.socket } }).createToken('bench', 'viewer')).token;
  return { label, daemon, url, token, root, client: new PolyvisorClient({ endpoint: { socketPath: daemon.socket }, timeoutMs: 120_000 }) };
}

async function fill(site: Site, n: number): Promise<void> {
  const guest = loadGuest();
  const boot = { kernel: guest.kernel, initrd: guest.initrd, cmdline: guest.cmdline };
  const have = (await site.client.listVms()).length;
  const names = Array.from({ length: n - have }, (_, i) => `vm-${String(have + i).padStart(4, '0')}`);
  for (let i = 0; i < names.length; i += 8) {
    await Promise.all(names.slice(i, i + 8).map((name, j) => site.client.createVm({ name, memory: '64Mi', boot, labels: { tier: ['web', 'db', 'cache'][(i + j) % 3]! } })));
  }
}

/** Opens the dashboard in a new context (cold), then reloads it (warm): ms to the ready mark, and how many VM rows the tree rendered. */
async function dashboard(browser: Browser, site: Site, vms: number): Promise<{ cold: number; warm: number; treeRows: number }> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await ctx.addInitScript(`sessionStorage.setItem('pvToken', ${JSON.stringify(site.token)})`);
  const page = await ctx.newPage();
  const ready = async (): Promise<number> => {
    for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
      const t = await page.evaluate(`performance.getEntriesByName('pv-dashboard-ready')[0]?.startTime ?? -1`) as number;
      if (t >= 0) return t;
      await page.waitForTimeout(10);
    }
    throw new Error(`${site.label}: no pv-dashboard-ready mark within 120 s`);
  };
  try {
    await page.goto(site.url);
    const cold = await ready();
    const rows = await page.$$eval('table.vms tbody tr', (r) => r.length);
    if (rows !== vms) throw new Error(`${site.label}: the VM table has ${rows} rows, not ${vms}`);
    const treeRows = await page.$$eval('#resource-tree a[data-kind=vm]', (a) => a.length);
    await page.reload();
    const warm = await ready();
    return { cold, warm, treeRows };
  } finally {
    await ctx.close();
  }
}

async function main(): Promise<void> {
  const browser = await launchChromium();
  const sites: Site[] = [];
  let beforeDir: string | null = null;
  const sections: string[] = [];
  try {
    const commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    sites.push(await openSite('now', undefined));
    if (BEFORE !== 'none') {
      beforeDir = buildBefore(BEFORE);
      sites.push(await openSite('before', path.join(beforeDir, 'bin', 'polyvisord.js')));
    }
    const rowsOut: string[][] = [];
    for (const n of SIZES) {
      for (const s of sites) await fill(s, n);
      log(`${n} VMs on each daemon; ${ROUNDS} rounds`);
      const r: Record<string, { cold: number[]; warm: number[]; tree: number }> = {};
      const api: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        for (const s of sites) {
          const x = await dashboard(browser, s, n);
          (r[s.label] ??= { cold: [], warm: [], tree: 0 }).cold.push(x.cold);
          r[s.label]!.warm.push(x.warm);
          r[s.label]!.tree = x.treeRows;
        }
        const t = performance.now();
        const res = await fetch(`${sites[0]!.url}/v1/vms`, { headers: { authorization: `Bearer ${sites[0]!.token}` } });
        const list = (await res.json()) as unknown[];
        api.push(performance.now() - t);
        if (list.length !== n) throw new Error(`GET /v1/vms listed ${list.length}`);
        log(`${n} VMs, round ${round + 1}: ${sites.map((s) => `${s.label} cold ${r[s.label]!.cold.at(-1)!.toFixed(0)} warm ${r[s.label]!.warm.at(-1)!.toFixed(0)}`).join('; ')}; GET ${api.at(-1)!.toFixed(1)} ms`);
      }
      const a = summarize(api);
      const now = { cold: summarize(r['now']!.cold), warm: summarize(r['now']!.warm) };
      const before = r['before'] ? { cold: summarize(r['before'].cold), warm: summarize(r['before'].warm) } : null;
      for (const kind of ['cold', 'warm'] as const) {
        rowsOut.push([`${n}`, kind, `${ms(now[kind])}`, `${r['now']!.tree}`, before ? ms(before[kind]) : '—', before ? `${r['before']!.tree}` : '—', before ? ratio(now[kind].median, before[kind].median) : '—', ratio(now[kind].median, a.median)]);
      }
      rowsOut.push([`${n}`, '`GET /v1/vms` (Node, TCP + token, parsed)', ms(a), '', '', '', '', '1.000']);
    }
    sections.push(
      '## Web UI: dashboard ready with 200 and 1,000 VMs (`bench/web-dashboard.ts`)',
      '',
      `Chromium ${await browser.version()} headless (Debian's) at 1280×900 against polyvisord on 127.0.0.1, VMs created (not running), viewer token; ${ROUNDS} rounds, each: a new browser context loads \`/\` (cold cache), then reloads it (warm). "Ready" is the page's \`pv-dashboard-ready\` mark (first animation frame after the VM table is rendered from the API's answer), from navigation start. *now* is commit ${commit}; *before* is ${BEFORE === 'none' ? 'not measured' : `the web UI of commit ${BEFORE} (the frame before the resource tree was windowed), built by the benchmark and served by a copy of the same daemon build on a twin state folder with the same VMs, in the same rounds (only the page differs)`}. "tree rows" is how many VM links the resource tree put in the document. Load ${loadNow()} at the end, ${os.cpus().length} CPUs. Milliseconds, median (min–max).`,
      '',
      table(['VMs', 'cache', 'now: ready ms', 'now: tree rows', 'before: ready ms', 'before: tree rows', 'now ÷ before', 'now ÷ GET /v1/vms'], rowsOut),
    );
    const body = sections.join('\n');
    writeSection(path.join(ROOT, 'docs', 'benchmarks.md'), 'web-dashboard', body);
    process.stdout.write(`${body}\n`);
  } finally {
    await browser.close();
    for (const s of sites) {
      await stopDaemon(s.daemon).catch(() => undefined);
      rmSync(s.root, { recursive: true, force: true });
    }
    if (beforeDir) rmSync(beforeDir, { recursive: true, force: true });
  }
}

await main();
