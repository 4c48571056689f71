/**
 * Web UI benchmark (run by hand: `bash bench/run.sh web`): time until the
 * dashboard shows a table of 200 VMs in Debian's Chromium (the page's own
 * `pv-dashboard-ready` performance mark, set once the VM table is rendered
 * from the daemon's data), with a cold cache (new browser context) and a warm
 * one (reload), side by side with what a script pays for the same list: `GET
 * /v1/vms` over TCP with a token, and `polyvisor vm list` (a CLI process over
 * the unix socket). Also the size of what the dashboard loads, raw and gzipped
 * (what the daemon sends to browsers). Writes the "web" section of docs/benchmarks.md.
 *
 * Env: BENCH_ROUNDS (default 7), BENCH_VMS (default 200), POLYVISOR_TEST_GUEST.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { PlatformClient, PolyvisorClient } from '../src/client/index.js';
import { launchChromium } from '../test/helpers/browser.js';
import { loadGuest } from './lib/guest.js';
import { loadNow } from './lib/machine.js';
import { ROOT, cli, startDaemon, stopDaemon, type Daemon } from './lib/polyvisor.js';
import { table, writeSection } from './lib/report.js';
import { ratio, summarize, type Summary } from './lib/stats.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);
const VMS = Number(process.env['BENCH_VMS'] ?? 200);
const log = (m: string): void => void process.stderr.write(`[web] ${m}\n`);
const ms = (s: Summary): string => `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;

interface Sizes { entryRaw: number; entryGzip: number; allRaw: number; allGzip: number; files: number }

/** What the dashboard loads (index.html, the entry script and stylesheet) and every asset, raw and gzipped. */
function bundleSizes(): Sizes {
  const dir = path.join(ROOT, 'dist', 'web');
  const html = readFileSync(path.join(dir, 'index.html'));
  const entry = [...html.toString().matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]!);
  const gz = (b: Buffer): number => gzipSync(b, { level: 9 }).length;
  const read = (rel: string): Buffer => readFileSync(path.join(dir, rel));
  // This build's assets (dist/web/assets also keeps a previous build's for a while, for pages still open).
  const assets = (JSON.parse(readFileSync(path.join(dir, 'build.json'), 'utf8')) as { assets: string[] }).assets.map((f) => `assets/${f}`);
  const sum = (files: string[], f: (b: Buffer) => number): number => files.reduce((n, x) => n + f(read(x)), 0);
  return {
    entryRaw: html.length + sum(entry, (b) => b.length), entryGzip: gz(html) + sum(entry, gz),
    allRaw: html.length + assets.reduce((n, a) => n + statSync(path.join(dir, a)).size, 0), allGzip: gz(html) + sum(assets, gz), files: assets.length,
  };
}

async function main(): Promise<void> {
  const guest = loadGuest();
  const root = mkdtempSync(path.join(os.tmpdir(), 'pv-bench-web-'));
  let d: Daemon | null = null;
  const browser = await launchChromium();
  try {
    d = await startDaemon(root, { listen: '127.0.0.1:0', env: { POLYVISOR_API_RATE_LIMIT: '0' } });
    const info = JSON.parse(readFileSync(path.join(root, 'daemon.json'), 'utf8')) as { url: string };
    const local = new PolyvisorClient({ endpoint: { socketPath: d.socket }, timeoutMs: 120_000 });
    const boot = { kernel: guest.kernel, initrd: guest.initrd, cmdline: guest.cmdline };
    for (let i = 0; i < VMS; i++) await local.createVm({ name: `vm-${String(i).padStart(3, '0')}`, memory: '64Mi', boot });
    const token = (await new PlatformClient({ endpoint: { socketPath: d.socket } }).createToken('bench', 'viewer')).token;
    log(`${VMS} VMs created; ${ROUNDS} rounds`);

    const cold: number[] = [];
    const warm: number[] = [];
    const fcp: number[] = [];
    const api: number[] = [];
    const cliList: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await ctx.addInitScript(`sessionStorage.setItem('pvToken', ${JSON.stringify(token)})`);
      const page = await ctx.newPage();
      const ready = async (): Promise<number> => {
        await page.waitForSelector(`table.vms tbody tr:nth-child(${VMS})`, { timeout: 60_000 });
        for (;;) {
          const t = await page.evaluate(`performance.getEntriesByName('pv-dashboard-ready')[0]?.startTime ?? -1`) as number;
          if (t >= 0) return t;
          await page.waitForTimeout(20);
        }
      };
      await page.goto(info.url);
      cold.push(await ready());
      fcp.push(await page.evaluate(`performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1`) as number);
      await page.reload();
      warm.push(await ready());
      await ctx.close();

      let t = performance.now();
      const res = await fetch(`${info.url}/v1/vms`, { headers: { authorization: `Bearer ${token}` } });
      const list = (await res.json()) as unknown[];
      api.push(performance.now() - t);
      if (list.length !== VMS) throw new Error(`GET /v1/vms listed ${list.length} VMs`);
      t = performance.now();
      const out = await cli(d, 'vm', 'list');
      cliList.push(performance.now() - t);
      if (out.code !== 0) throw new Error(`vm list failed: ${out.stderr}`);
      log(`round ${r + 1}: dashboard cold ${cold.at(-1)!.toFixed(0)} ms, warm ${warm.at(-1)!.toFixed(0)} ms; GET ${api.at(-1)!.toFixed(1)} ms; CLI ${cliList.at(-1)!.toFixed(0)} ms`);
    }
    const s = { cold: summarize(cold), warm: summarize(warm), fcp: summarize(fcp), api: summarize(api), cli: summarize(cliList) };
    const b = bundleSizes();
    const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
    const body = [
      `## Web UI: dashboard with ${VMS} VMs (\`bench/web.ts\`)`,
      '',
      `Chromium ${await browser.version()} headless (Debian's, driven by playwright-core) against a real polyvisord on 127.0.0.1 with ${VMS} VMs (created, not running), ${ROUNDS} rounds, each: a new browser context (empty cache) loads \`/\` with a viewer token, then reloads (warm cache); then \`GET /v1/vms\` from Node and \`polyvisor vm list\`. "Dashboard ready" is the page's \`pv-dashboard-ready\` mark: set in the first animation frame after the VM table is rendered from the API's answer (log-in check, event-stream connection, VM list), measured from navigation start. Load ${loadNow()} at the end, ${os.cpus().length} CPUs. Milliseconds, median (min–max).`,
      '',
      table(['what', 'ms', `ratio to GET /v1/vms`, 'ratio to `polyvisor vm list`'], [
        ['dashboard ready, cold cache', ms(s.cold), ratio(s.cold.median, s.api.median), ratio(s.cold.median, s.cli.median)],
        ['dashboard ready, warm cache', ms(s.warm), ratio(s.warm.median, s.api.median), ratio(s.warm.median, s.cli.median)],
        ['first contentful paint (cold; the shell, before data)', ms(s.fcp), ratio(s.fcp.median, s.api.median), ratio(s.fcp.median, s.cli.median)],
        [`\`GET /v1/vms\` (TCP + token, ${VMS} VMs, JSON parsed)`, ms(s.api), '1.000', ratio(s.api.median, s.cli.median)],
        ['`polyvisor vm list` (a CLI process, unix socket)', ms(s.cli), ratio(s.cli.median, s.api.median), '1.000'],
      ]),
      '',
      'What the browser downloads (`dist/web`, built by `npm run build`, which also writes a gzip -9 copy of each asset; the daemon sends that copy to browsers that accept gzip, so the gzip column is what goes over the wire):',
      '',
      table(['part', 'raw', 'gzip -9'], [
        ['dashboard (index.html + entry script + stylesheet)', kib(b.entryRaw), kib(b.entryGzip)],
        [`everything (${b.files} assets, incl. the lazily loaded VM page, xterm.js and noVNC)`, kib(b.allRaw), kib(b.allGzip)],
      ]),
    ].join('\n');
    writeSection(path.join(ROOT, 'docs', 'benchmarks.md'), 'web', body);
    process.stdout.write(`${body}\n`);
  } finally {
    await browser.close();
    if (d) await stopDaemon(d);
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
