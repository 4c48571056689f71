/**
 * Stack planner benchmark (run by hand: `npx tsx bench/stack-plan.ts`): the
 * file of a 1,000-member stack (50 members × count 20 = 1,000 VMs plus 10
 * networks and 10 volumes, a two-level dependency graph) resolved and planned
 * against a reality where every VM exists and a tenth differ (memory), beside
 * a peer measured in the same run: validating the same 1,000 VM specs one by
 * one with the VM spec's own validateSpec (what any planner must at least do).
 * Prints the median of BENCH_ROUNDS (default 5) and the ratio; the target is
 * plan < 1 s.
 */
import { performance } from 'node:perf_hooks';
import { validateSpec, type VmState } from '../src/spec/index.js';
import { planStack, resolveStack, type ActualState } from '../src/stack/index.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const spec = { memory: '256Mi', boot: { kernel: '/k' }, disks: [{ name: 'root', size: '1Gi' }] };
const doc = {
  name: 'big',
  networks: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`net${i}`, { mode: 'isolated' }])),
  volumes: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`vol${i}`, { size: '1Gi' }])),
  vms: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`m${i}`, {
    count: 20, spec: { ...spec, networks: [{ network: `net${i % 10}` }] }, ...(i >= 10 ? { depends_on: [`m${i % 10}`] } : {}),
  }])),
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const desired0 = resolveStack(doc);
const actual: ActualState = {
  vms: desired0.vms.map((v, i) => ({ name: v.name, state: 'running' as VmState, spec: i % 10 === 0 ? { ...v.spec, memory: v.spec.memory * 2 } : v.spec })),
  networks: desired0.networks.map((n) => ({ name: n.name, owned: true, config: { name: n.name, mode: 'isolated', bridge: `pv-${n.name}`, subnet: '10.0.0.0/24', gateway: '10.0.0.1', dhcpRange: null, dnsDomain: null, uplink: null, vlan: null } })),
  volumes: desired0.volumes.map((v) => ({ pool: v.pool, name: v.name, sizeBytes: v.sizeBytes, format: v.format, owned: true })),
};

const plans: number[] = [];
const peers: number[] = [];
let changes = 0;
for (let r = 0; r < ROUNDS; r++) {
  let t = performance.now();
  const p = planStack(resolveStack(doc), actual);
  plans.push(performance.now() - t);
  changes = p.changes.filter((c) => c.action !== 'noop').length;
  t = performance.now();
  for (const v of desired0.vms) validateSpec({ ...spec, name: v.name, networks: [{ network: 'net0' }] });
  peers.push(performance.now() - t);
}
const plan = median(plans);
const peer = median(peers);
process.stdout.write([
  `stack plan: ${desired0.vms.length} VMs + ${desired0.networks.length} networks + ${desired0.volumes.length} volumes, levels ${desired0.graph.order.length}, ${changes} changes planned`,
  `  resolve + plan   median ${plan.toFixed(0)} ms of ${ROUNDS} (${plans.map((x) => x.toFixed(0)).join(', ')})`,
  `  peer: validateSpec x ${desired0.vms.length}  median ${peer.toFixed(0)} ms`,
  `  ratio plan / peer: ${(plan / peer).toFixed(2)}; target plan < 1000 ms: ${plan < 1000 ? 'met' : 'NOT met'}`,
  '',
].join('\n'));
