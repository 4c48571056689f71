/**
 * Listing 1,000 domains on a private libvirtd (scripts/libvirtd.sh; small
 * domains, defined, never started) through the libvirt driver, cold (a new
 * session each time: connect starts the session's interactive virsh and
 * proves the URI with `version` on it, list runs its two commands on that
 * virsh, then close), beside virsh itself in the same run, rounds interleaved
 * (`bash bench/run.sh list-libvirt`):
 *
 * - `virsh list --all`: the native listing (id, name, state);
 * - `virsh list --all --uuid --name` and `virsh domstats --state --vcpu
 *   --balloon --block`: the driver's two commands, each spawned on its own;
 * - `virsh list --all --name` + `dominfo` of every domain (in one interactive
 *   virsh fed on stdin): what a driver that read details per domain would pay.
 *
 * Also the cost of one call by each way of talking to libvirt that runs here
 * (docs/drivers-libvirt.md): virsh spawned per call (`dominfo`, `version`), and
 * one long-lived interactive virsh fed commands on stdin.
 *
 * Writes the `list-libvirt` section of docs/benchmarks.md.
 * Env: BENCH_ROUNDS (default 7), BENCH_VMS (default 1000).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createLibvirtDriver } from '../src/drivers/libvirt/index.js';
import { startLibvirtd } from '../test/helpers/libvirtd.js';
import { loadNow } from './lib/machine.js';
import { ROOT } from './lib/polyvisor.js';
import { table, writeSection } from './lib/report.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);
const VMS = Number(process.env['BENCH_VMS'] ?? 1000);
const log = (s: string): void => void process.stderr.write(`[list-libvirt] ${s}\n`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function virsh(uri: string, args: string[], input?: string): string {
  const r = spawnSync('virsh', ['-q', '-c', uri, ...args], { encoding: 'utf8', input, timeout: 600_000, maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`virsh ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Runs virsh asynchronously (so a timing includes what a Node caller waits), returns ms. */
function timed(uri: string, args: string[], input?: string): Promise<{ ms: number; out: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const c = spawn('virsh', ['-q', '-c', uri, ...args], { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let out = '';
    c.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve({ ms: performance.now() - t0, out }) : reject(new Error(`virsh ${args[0]} exited ${code}`))));
    if (input !== undefined) c.stdin!.end(input);
  });
}

async function main(): Promise<void> {
  const lv = startLibvirtd('bench-libvirt');
  const work = mkdtempSync(path.join(os.tmpdir(), 'pv-bench-libvirt-'));
  try {
    log(`private libvirtd at ${lv.uri}; defining ${VMS} domains`);
    const lines: string[] = [];
    for (let i = 1; i <= VMS; i++) {
      const name = `bench-${String(i).padStart(4, '0')}`;
      const file = path.join(work, `${name}.xml`);
      writeFileSync(file, `<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os><devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>\n`);
      lines.push(`define ${file}`);
    }
    const t0 = performance.now();
    virsh(lv.uri, [], `${lines.join('\n')}\n`);
    log(`defined in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const driver = createLibvirtDriver({ diskRoot: path.join(work, 'vms'), domainType: 'qemu' });
    const names = virsh(lv.uri, ['list', '--all', '--name']).trim().split('\n');
    const dominfoScript = `${names.map((n) => `dominfo ${n}`).join('\n')}\n`;
    const m: Record<string, number[]> = { driver: [], list: [], ids: [], domstats: [], details: [], dominfo1: [], version: [], interactive: [] };
    let listed = 0;
    for (let round = 0; round <= ROUNDS; round++) {
      const r: Record<string, number> = {};
      let t = performance.now();
      const s = await driver.connect({ name: 'bench', url: lv.uri }, AbortSignal.timeout(600_000));
      listed = (await s.list(AbortSignal.timeout(600_000))).length;
      await s.close();
      r['driver'] = performance.now() - t;
      r['list'] = (await timed(lv.uri, ['list', '--all'])).ms;
      r['ids'] = (await timed(lv.uri, ['list', '--all', '--uuid', '--name'])).ms;
      r['domstats'] = (await timed(lv.uri, ['domstats', '--raw', '--state', '--vcpu', '--balloon', '--block'])).ms;
      t = performance.now();
      await timed(lv.uri, ['list', '--all', '--name']);
      await timed(lv.uri, [], dominfoScript);
      r['details'] = performance.now() - t;
      // One call, three ways: virsh spawned for it; virsh spawned for `version` (spawn + connect: what
      // libvirt's RPC spoken directly would save); and a long-lived virsh fed 50 commands on stdin.
      r['dominfo1'] = (await timed(lv.uri, ['dominfo', names[0]!])).ms;
      r['version'] = (await timed(lv.uri, ['version'])).ms;
      r['interactive'] = (await timed(lv.uri, [], `${names.slice(0, 50).map((n) => `dominfo ${n}`).join('\n')}\n`)).ms / 50;
      if (round === 0) continue; // warm-up
      for (const [k, v] of Object.entries(r)) m[k]!.push(v);
      log(`round ${round}: ${Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
    }
    if (listed !== VMS) throw new Error(`the driver listed ${listed} domains, ${VMS} defined`);
    const med = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, median(v)])) as Record<string, number>;
    const ms = (x: number): string => x.toFixed(1);
    const ratio = (x: number): string => (x / med['list']!).toFixed(2);
    const body =
      `## Listing ${VMS} libvirt domains (\`bench/list-libvirt.ts\`)\n\n` +
      `A private libvirtd 9.0 (scripts/libvirtd.sh) with ${VMS} defined, never started domains; ${ROUNDS} rounds after a warm-up, interleaved, medians; load before: ${loadNow()}.\n\n` +
      table(['what', 'ms (median)', 'ratio to `virsh list --all`'], [
        ['driver cold: connect (one interactive virsh: `version`) + list (its two commands on that virsh) + close', ms(med['driver']!), ratio(med['driver']!)],
        ['`virsh list --all` (native)', ms(med['list']!), '1.00'],
        ['`virsh list --all --uuid --name` spawned (the driver\'s first command)', ms(med['ids']!), ratio(med['ids']!)],
        ['`virsh domstats --state --vcpu --balloon --block` spawned (its second)', ms(med['domstats']!), ratio(med['domstats']!)],
        [`\`virsh list --all --name\` + ${VMS} × \`dominfo\` in one interactive virsh`, ms(med['details']!), ratio(med['details']!)],
      ]) +
      '\n\nOne call, by each way of talking to libvirt that runs here:\n\n' +
      table(['way', 'ms per call (median)'], [
        ['virsh spawned for one `dominfo`', ms(med['dominfo1']!)],
        ['virsh spawned for `version` (spawn + connect + 2 small RPCs)', ms(med['version']!)],
        ['one interactive virsh, 50 `dominfo` on stdin, per command', ms(med['interactive']!)],
      ]) +
      '\n';
    process.stdout.write(`${body}\n`);
    writeSection(path.join(ROOT, 'docs', 'benchmarks.md'), 'list-libvirt', body);
  } finally {
    lv.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
