/**
 * How the Proxmox driver should talk HTTPS (run by hand: `npx tsx
 * bench/proxmox-http.ts`): listing BENCH_VMS guests (default 300) of the fake
 * Proxmox VE (test/fakes/proxmox; the same machine, so network latency is
 * nil and only TLS and request costs show) four ways, rounds interleaved:
 *
 * - the driver's list(): keep-alive agent, 8 config reads at once;
 * - the driver's list() reading one config at a time;
 * - the same calls with a new TLS connection per request (a client without
 *   keep-alive), one at a time;
 * - one GET /cluster/resources alone (the floor: what a list without each
 *   VM's config costs).
 *
 * BENCH_DELAY_MS delays every answer (a stand-in for network and server
 * time). Prints medians and ratios to the driver's list(); docs/drivers-proxmox.md
 * quotes a run.
 */
import https from 'node:https';
import { createProxmoxDriver } from '../src/drivers/proxmox/index.js';
import { FAKE_TOKEN, startFakeProxmox } from '../test/fakes/proxmox/server.js';
import type { VmSeed } from '../test/fakes/proxmox/state.js';

const VMS = Number(process.env['BENCH_VMS'] ?? 300);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
/** Each answer of the fake waits this long first: a stand-in for the network and pveproxy's own work (default 0). */
const DELAY_MS = Number(process.env['BENCH_DELAY_MS'] ?? 0);

const vms: VmSeed[] = Array.from({ length: VMS }, (_, i) => ({ vmid: 100 + i, node: i % 2 ? 'pve2' : 'pve1', name: `vm-${i}`, running: i % 3 === 0 }));
const fake = await startFakeProxmox({ vms });
fake.faults.delayMs = DELAY_MS;
const conn = { name: 'bench', url: fake.url, token: FAKE_TOKEN, ca: fake.ca };
const sig = (): AbortSignal => AbortSignal.timeout(600_000);
const parallel = await createProxmoxDriver({ listConcurrency: 8 }).connect(conn, sig());
const serial = await createProxmoxDriver({ listConcurrency: 1 }).connect(conn, sig());

function get(path: string, agent: https.Agent | false): Promise<unknown> {
  const u = new URL(fake.url);
  return new Promise((resolve, reject) => {
    https.get({ host: u.hostname, port: u.port, path: `/api2/json${path}`, agent, ca: fake.ca, headers: { Authorization: `PVEAPIToken=${FAKE_TOKEN}` } }, (res) => {
      let t = '';
      res.on('data', (c: Buffer) => (t += c.toString()));
      res.on('end', () => resolve((JSON.parse(t) as { data: unknown }).data));
    }).on('error', reject);
  });
}

async function freshConnections(): Promise<void> {
  const rows = (await get('/cluster/resources?type=vm', false)) as { node: string; vmid: number }[];
  for (const r of rows) await get(`/nodes/${r.node}/qemu/${r.vmid}/config`, false);
}

const ways: Record<string, () => Promise<unknown>> = {
  'driver list(), keep-alive, 8 at once': () => parallel.list(sig()),
  'driver list(), keep-alive, 1 at a time': () => serial.list(sig()),
  'new TLS connection per request, 1 at a time': freshConnections,
  'GET /cluster/resources alone (keep-alive)': () => get('/cluster/resources?type=vm', new https.Agent({ keepAlive: true, ca: fake.ca })),
};
const times: Record<string, number[]> = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
for (const w of Object.values(ways)) await w(); // warm up
for (let round = 0; round < ROUNDS; round++) {
  for (const [k, w] of Object.entries(ways)) {
    const t0 = performance.now();
    await w();
    times[k]!.push(performance.now() - t0);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(times['driver list(), keep-alive, 8 at once']!);
console.log(`listing ${VMS} VMs of the fake Proxmox VE, answers delayed ${DELAY_MS} ms, ${ROUNDS} rounds interleaved (${new Date().toISOString()}):`);
for (const [k, xs] of Object.entries(times)) console.log(`  ${k.padEnd(48)} ${median(xs).toFixed(1).padStart(8)} ms  x${(median(xs) / base).toFixed(2)}`);
await parallel.close();
await serial.close();
await fake.stop();
