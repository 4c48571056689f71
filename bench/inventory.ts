/**
 * Listing 1,000 VMs through Polyvisor's inventory (a real daemon, GET
 * /v1/inventory over its unix socket) on vcsim (VMware's vCenter SIMULATOR)
 * and on a private libvirtd, beside each one's native client measured in the
 * same run, rounds interleaved (`bash bench/run.sh inventory`):
 *
 * - Polyvisor fresh: `?endpoint=X&fresh=true`, the endpoint asked now (the
 *   daemon's session is open, as it is in use);
 * - Polyvisor cached: `?endpoint=X`, the inventory's cache (kept by events);
 * - native: `virsh list --all` (spawned: connect + list); for vSphere a
 *   hand-written RetrievePropertiesEx of the same properties on an open
 *   connection (warm) and with its login (cold) (bench/lib/vsphere-native.ts).
 *
 * Goals of issue 17: fresh within 1.2x of the native client, cached at least
 * 10x faster. Writes the `inventory` section of docs/benchmarks.md.
 * Env: BENCH_ROUNDS (default 7), BENCH_VMS (default 1000).
 */
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startLibvirtd } from '../test/helpers/libvirtd.js';
import { startVcsim } from '../test/helpers/vcsim.js';
import { loadNow } from './lib/machine.js';
import { cliOk, ROOT, startDaemon, stopDaemon } from './lib/polyvisor.js';
import { table, writeSection } from './lib/report.js';
import { nativeList } from './lib/vsphere-native.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);
const VMS = Number(process.env['BENCH_VMS'] ?? 1000);
const log = (s: string): void => void process.stderr.write(`[inventory] ${s}\n`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const BRIEF_PATHS = ['name', 'runtime.powerState', 'runtime.host', 'config.hardware.numCPU', 'config.hardware.memoryMB', 'config.guestId', 'config.firmware'];

function get(socket: string, url: string): Promise<{ ms: number; body: string }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    http.get({ socketPath: socket, path: url }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve({ ms: performance.now() - t, body: Buffer.concat(chunks).toString() }) : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
    }).on('error', reject);
  });
}

function timedVirsh(uri: string, args: string[]): number {
  const t = performance.now();
  const r = spawnSync('virsh', ['-c', uri, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`virsh ${args.join(' ')}: ${r.stderr}`);
  return performance.now() - t;
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'pv-bench-inventory-'));
  const lv = startLibvirtd('bench-inventory');
  let sim: Awaited<ReturnType<typeof startVcsim>> | undefined;
  let d: Awaited<ReturnType<typeof startDaemon>> | undefined;
  try {
    sim = await startVcsim({ hosts: 4, vms: VMS / 2 }); // vcsim's VPX model: the count per host of the cluster and per standalone host
    mkdirSync(path.join(work, 'state'), { mode: 0o700 });
    d = await startDaemon(path.join(work, 'state'));
    log(`defining ${VMS} libvirt domains`);
    const lines: string[] = [];
    for (let i = 1; i <= VMS; i++) {
      const file = path.join(work, `d${i}.xml`);
      writeFileSync(file, `<domain type='qemu'><name>inv-${String(i).padStart(4, '0')}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os><devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>\n`);
      lines.push(`define ${file}`);
    }
    const def = spawnSync('virsh', ['-c', lv.uri], { input: `${lines.join('\n')}\n`, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (def.status !== 0) throw new Error(def.stderr);
    writeFileSync(path.join(work, 'pw'), sim.password, { mode: 0o600 });
    writeFileSync(path.join(work, 'ca.pem'), sim.ca);
    await cliOk(d, 'endpoint', 'add', 'lv', '--driver', 'libvirt', '--url', lv.uri);
    await cliOk(d, 'endpoint', 'add', 'vc', '--driver', 'vsphere', '--url', sim.url, '--user', sim.user, '--password-file', path.join(work, 'pw'), '--ca', path.join(work, 'ca.pem'));
    const m: Record<string, number[]> = { lvFresh: [], lvCached: [], virsh: [], vcFresh: [], vcCached: [], soapWarm: [], soapCold: [] };
    let counts = { lv: 0, vc: 0 };
    for (let round = 0; round <= ROUNDS; round++) {
      const r: Record<string, number> = {};
      const lf = await get(d.socket, '/v1/inventory?endpoint=lv&fresh=true');
      r['lvFresh'] = lf.ms;
      r['lvCached'] = (await get(d.socket, '/v1/inventory?endpoint=lv')).ms;
      r['virsh'] = timedVirsh(lv.uri, ['list', '--all']);
      const vf = await get(d.socket, '/v1/inventory?endpoint=vc&fresh=true');
      r['vcFresh'] = vf.ms;
      r['vcCached'] = (await get(d.socket, '/v1/inventory?endpoint=vc')).ms;
      const n = await nativeList(sim.url, sim.ca, sim.user, sim.password, BRIEF_PATHS, 1);
      r['soapCold'] = n.cold;
      r['soapWarm'] = n.warm;
      counts = { lv: (JSON.parse(lf.body) as { vms: unknown[] }).vms.length, vc: (JSON.parse(vf.body) as { vms: unknown[] }).vms.length };
      if (round === 0) continue;
      for (const [k, v] of Object.entries(r)) m[k]!.push(v);
      log(`round ${round}: ${Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
    }
    const med = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, median(v)])) as Record<string, number>;
    const ms = (x: number): string => x.toFixed(1);
    const x = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
    const body =
      `## Inventory: ${VMS} VMs through the daemon (\`bench/inventory.ts\`)\n\n` +
      `GET /v1/inventory on a daemon's unix socket; a private libvirtd 9.0 with ${counts.lv} defined domains and vcsim (a simulator) with ${counts.vc} VMs; ` +
      `${ROUNDS} rounds after a warm-up, interleaved, medians; load before: ${loadNow()}.\n\n` +
      table(['what', 'ms (median)', 'vs native'], [
        ['libvirt: Polyvisor fresh (`fresh=true`)', ms(med['lvFresh']!), x(med['lvFresh']!, med['virsh']!)],
        ['libvirt: Polyvisor cached', ms(med['lvCached']!), x(med['lvCached']!, med['virsh']!)],
        ['libvirt: `virsh list --all` (native)', ms(med['virsh']!), '1.00x'],
        ['vSphere: Polyvisor fresh (`fresh=true`, session open)', ms(med['vcFresh']!), x(med['vcFresh']!, med['soapWarm']!)],
        ['vSphere: Polyvisor cached', ms(med['vcCached']!), x(med['vcCached']!, med['soapWarm']!)],
        ['vSphere: SOAP RetrievePropertiesEx, same properties, open connection (native, warm)', ms(med['soapWarm']!), '1.00x'],
        ['vSphere: SOAP login + view + RetrievePropertiesEx (native, cold)', ms(med['soapCold']!), x(med['soapCold']!, med['soapWarm']!)],
      ]) +
      `\n\nCached vs the native client: libvirt ${x(med['virsh']!, med['lvCached']!)} faster than \`virsh list --all\`; vSphere ${x(med['soapWarm']!, med['vcCached']!)} faster than the warm SOAP call and ${x(med['soapCold']!, med['vcCached']!)} faster than the cold one (goal: at least 10x). ` +
      `Cached vs fresh through Polyvisor: libvirt ${x(med['lvFresh']!, med['lvCached']!)}, vSphere ${x(med['vcFresh']!, med['vcCached']!)}.\n`;
    process.stdout.write(`${body}\n`);
    writeSection(path.join(ROOT, 'docs', 'benchmarks.md'), 'inventory', body);
  } finally {
    if (d) await stopDaemon(d);
    await sim?.stop();
    lv.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
