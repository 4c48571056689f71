/**
 * Cluster scale simulation (issue 19), on a real 3-member etcd started by
 * scripts/etcd.sh: BENCH_HOSTS simulated host agents (default 1,000) in this
 * one process and BENCH_VMS VM records (default 100,000; every 10th one HA).
 * QEMU is faked at the driver boundary: a host "runs" a VM by owning its
 * record, and the HA executors take VMs over with the same compare-and-set on
 * the record's generation the daemon uses, without starting a process. The
 * agents, leases, election, HA manager, HA executors and the etcd store are
 * the product's own code; the HA manager reads the VM records the way the
 * daemon's does, from its watch-fed cache (read once per term, then watched).
 *
 * Phases: records written; agents join; steady state (lease renewals, the
 * executors' polling); a host lost with its VMs (lease expiry to every HA VM
 * owned elsewhere); a leader change of the HA manager (its lease lost to a
 * new leader's first pass). Reported: times, etcd's proposals per second
 * (from its /metrics), etcd's and this process's memory. Writes the
 * "cluster-scale" section of docs/benchmarks.md (BENCH_WRITE=0: print only).
 *
 * Run: npx tsx bench/cluster-scale.ts   (BENCH_HOSTS, BENCH_VMS, BENCH_TTL,
 * BENCH_STEADY_SECONDS to scale it down or up).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Election, HaExecutor, HaManager, HostAgent, currentLeader, listHosts } from '../src/cluster/index.js';
import { newUuid, silentLogger, sleep } from '../src/shared/index.js';
import { validateSpec, type VmSpec } from '../src/spec/index.js';
import type { ClusterKv, Store } from '../src/store/index.js';
import { EtcdKv, openEtcdStore } from '../src/store/etcd/index.js';
import { keysUnder } from '../src/store/etcd/keys.js';
import { startEtcd, type TestEtcd } from '../test/helpers/etcd.js';
import { loadNow } from './lib/machine.js';
import { table, writeSection } from './lib/report.js';

const HOSTS = Number(process.env['BENCH_HOSTS'] ?? 1000);
const VMS = Number(process.env['BENCH_VMS'] ?? 100_000);
const TTL = Number(process.env['BENCH_TTL'] ?? 10);
const STEADY = Number(process.env['BENCH_STEADY_SECONDS'] ?? 30);
const PREFIX = '/pvscale/';
const CANDIDATES = 3;
/** Write the records 32 to a transaction (same keys and values as createVm) instead of one createVm each: 5 min less per run. */
const BULK = process.env['BENCH_BULK'] === '1';
/** The HA executors' longest wait between passes (the product's default: 5 s). */
const EXECUTOR_TICK_MS = Number(process.env['BENCH_EXECUTOR_TICK_MS'] ?? 5_000);
const log = (s: string): void => void process.stderr.write(`[cluster-scale] ${new Date().toISOString().slice(11, 19)} ${s}\n`);
const hostName = (i: number): string => `h${String(i).padStart(4, '0')}`;

/** Runs `fn` over 0..n-1 with at most `limit` at once. */
async function pool(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, n) }, async () => {
    while (next < n) await fn(next++);
  }));
}

/** etcd's own counters and memory, read from a member's /metrics. */
async function etcdMetrics(url: string): Promise<{ proposals: number; rssBytes: number; dbBytes: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const v = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { proposals: v('etcd_server_proposals_committed_total'), rssBytes: v('process_resident_memory_bytes'), dbBytes: v('etcd_mvcc_db_total_size_in_bytes') };
}

async function etcdRss(etcd: TestEtcd): Promise<number> {
  let sum = 0;
  for (let i = 0; i < etcd.size; i++) {
    const pid = etcd.pid(i);
    if (pid === null) continue;
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    sum += Number(m?.[1] ?? 0) * 1024;
  }
  return sum;
}

/** Counts every call to a key-value client, by method, into `counts`. */
function counting(kv: ClusterKv, counts = new Map<string, number>()): { kv: ClusterKv; counts: Map<string, number> } {
  const proxy = new Proxy(kv, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        counts.set(String(prop), (counts.get(String(prop)) ?? 0) + 1);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { kv: proxy, counts };
}

const mib = (b: number): string => (b / 1024 ** 2).toFixed(0);
const s1 = (ms: number): string => (ms / 1000).toFixed(1);

async function main(): Promise<void> {
  log(`${HOSTS} host agents, ${VMS} VM records (every 10th HA), lease TTL ${TTL} s, on 3 etcd members`);
  const etcd = await startEtcd(3, 'scale');
  const store = openEtcdStore({ endpoints: etcd.endpoints, prefix: PREFIX, timeoutMs: 60_000 });
  const { kv, counts } = counting((store as unknown as { kv: ClusterKv }).kv);
  const ctl = new AbortController();
  const rows: string[][] = [];
  const agents: HostAgent[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  const loops: Array<Promise<void>> = [];
  try {
    // 1. VM records, 100 per host, every 10th HA and running.
    const plain = validateSpec({ name: 'tpl', memory: '1Gi', disks: [{ name: 'root', size: '10Gi' }] });
    const ha = validateSpec({ name: 'tpl', memory: '1Gi', disks: [{ name: 'root', size: '10Gi' }], ha: true });
    const perHost = Math.max(1, Math.floor(VMS / HOSTS));
    let t = performance.now();
    const recordOf = (i: number) => {
      const name = `vm-${String(i).padStart(6, '0')}`;
      const spec: VmSpec = { ...(i % 10 === 0 ? ha : plain), name };
      return { id: newUuid(), name, spec, state: 'running' as const, stateReason: 'scale bench', host: hostName(Math.floor(i / perHost) % HOSTS), runtime: null };
    };
    if (BULK) {
      const keys = keysUnder(PREFIX);
      const now = new Date().toISOString();
      await pool(Math.ceil(VMS / 32), 16, async (b) => {
        const ops = [];
        for (let i = b * 32; i < Math.min(VMS, (b + 1) * 32); i++) {
          const r = recordOf(i);
          ops.push({ put: keys.vm(r.name), value: JSON.stringify({ ...r, createdAt: now, updatedAt: now, generation: 1 }) }, { put: keys.vmId(r.id), value: r.name });
        }
        await kv.txn([], ops);
        if (b % 300 === 299) log(`${(b + 1) * 32} records`);
      });
    } else {
      await pool(VMS, 64, async (i) => {
        await store.createVm(recordOf(i));
        if (i % 10_000 === 9_999) log(`${i + 1} records`);
      });
    }
    const writeMs = performance.now() - t;
    const afterWrite = await etcdMetrics(etcd.endpoints[0]!);
    rows.push([`${VMS.toLocaleString('en-US')} VM records written (${BULK ? '32 to a transaction, 16 at a time: a bench shortcut' : 'createVm, 64 at a time'})`, `${s1(writeMs)} s`, `${Math.round(VMS / (writeMs / 1000))} records/s; etcd db ${mib(afterWrite.dbBytes)} MiB`]);
    log(`records: ${s1(writeMs)} s`);

    // 2. Agents join.
    // Each simulated host has its own etcd client (its own sockets, its own first member), as a real host has.
    const capacity = { cpus: 64, memoryBytes: 512 * 1024 ** 3, diskBytes: 10 * 1024 ** 4 };
    const hostKvs: EtcdKv[] = [];
    const lostLeases: string[] = [];
    const crashed = new Set<number>();
    for (let i = 0; i < HOSTS; i++) {
      const own = new EtcdKv({ endpoints: etcd.endpoints, timeoutMs: 60_000 });
      hostKvs.push(own);
      const hkv = counting(own, counts).kv;
      const agent: HostAgent = new HostAgent({
        kv: hkv, host: { name: hostName(i), state: 'ready', capacity, facts: { sim: 'true' } }, ttlSeconds: TTL, prefix: PREFIX,
        // As the daemon does (cluster/rejoin.ts, without the watchdog): a host whose lease was lost takes a new one.
        onLost: (why) => {
          if (why === 'revoked' || crashed.has(i) || ctl.signal.aborted) return;
          lostLeases.push(`${hostName(i)}: ${why}`);
          const retry = (): void => void agent.rejoin(ctl.signal).catch(() => !ctl.signal.aborted && setTimeout(retry, 1_000));
          setTimeout(retry, 100);
        },
      });
      agents.push(agent);
    }
    closers.push(() => Promise.all(hostKvs.map((k) => k.close())));
    t = performance.now();
    await pool(HOSTS, 50, async (i) => agents[i]!.join());
    const joinMs = performance.now() - t;
    rows.push([`${HOSTS} agents join (lease + record, 50 at a time)`, `${s1(joinMs)} s`, `${(await listHosts(kv, PREFIX)).length} hosts listed`]);
    log(`joined: ${s1(joinMs)} s`);

    // 3. Control plane: 3 HA manager candidates, an executor per host (QEMU faked: ownership only).
    const managers: HaManager[] = [];
    /** Passes after a term's first (the first reads every record into the cache). */
    const tickMs: number[] = [];
    /** Each candidate's completed passes: when each ended (ms since epoch), and how long it took. */
    const passes = new Map<number, Array<{ end: number; ms: number; loads: number }>>();
    for (let c = 0; c < CANDIDATES; c++) {
      const ckv = counting(hostKvs[c]!, counts).kv;
      const election = new Election({ kv: ckv, name: 'ha', candidate: hostName(c), lease: agents[c]!.lease, prefix: PREFIX });
      const m = new HaManager({ kv: ckv, election, log: silentLogger, prefix: PREFIX });
      const tick = m.tick.bind(m);
      m.tick = async (signal) => {
        const t0 = performance.now();
        const loadsBefore = m.cache?.loads ?? 0;
        const plan = await tick(signal);
        const ms = performance.now() - t0;
        const loads = (m.cache?.loads ?? 0) - loadsBefore;
        if (loads === 0) tickMs.push(ms);
        passes.set(c, [...(passes.get(c) ?? []), { end: Date.now(), ms, loads }]);
        return plan;
      };
      managers.push(m);
      loops.push(m.run(ctl.signal));
    }
    const restarted = new Set<string>();
    const takeOver = (host: string) => async (name: string, _from: string, generation: number): Promise<void> => {
      await (store as Store).updateVm(name, { host, state: 'running', stateReason: `HA (simulated) on ${host}`, runtime: null }, generation);
      restarted.add(name);
    };
    // The executors start over one second (hosts do not all start at the same instant).
    for (let i = 0; i < HOSTS; i++) {
      const ekv = counting(hostKvs[i]!, counts).kv;
      const ex = new HaExecutor({ kv: ekv, host: hostName(i), log: silentLogger, prefix: PREFIX, tickMs: EXECUTOR_TICK_MS, takeOverAndStart: takeOver(hostName(i)) });
      loops.push(sleep(Math.floor((i / HOSTS) * 1000), ctl.signal).then(() => ex.run(ctl.signal), () => undefined));
    }

    // The first leader's first pass reads every record into its cache.
    t = performance.now();
    while (![...passes.values()].some((p) => p.length > 0) && performance.now() - t < 600_000) await sleep(100);
    const firstPass = [...passes.values()].flat()[0];
    rows.push([`HA manager's first pass as leader (reads ${VMS.toLocaleString('en-US')} records into its cache, pages of 5,000)`, `${s1(firstPass?.ms ?? NaN)} s`, `${mib(process.memoryUsage().rss)} MiB RSS after it (this process)`]);
    log(`first pass: ${rows.at(-1)!.slice(1).join(' | ')}`);
    tickMs.length = 0;

    // 4. Steady state.
    const before = await etcdMetrics(etcd.endpoints[0]!);
    const callsBefore = new Map(counts);
    t = performance.now();
    await sleep(STEADY * 1000);
    const steadyS = (performance.now() - t) / 1000;
    const after = await etcdMetrics(etcd.endpoints[0]!);
    const perSec = (k: string): string => ((((counts.get(k) ?? 0) - (callsBefore.get(k) ?? 0)) / steadyS)).toFixed(0);
    const calls = [...counts.keys()].sort().map((k) => `${k} ${perSec(k)}/s`).join(', ');
    const ticks = [...tickMs].sort((a, b) => a - b);
    rows.push([`steady state, ${STEADY} s`, `${((after.proposals - before.proposals) / steadyS).toFixed(0)} etcd proposals/s`, `client calls: ${calls}; HA manager pass p50 ${(ticks[Math.floor(ticks.length / 2)] ?? NaN).toFixed(0)} ms over ${ticks.length} passes`]);
    log(`steady: ${rows.at(-1)!.slice(1).join(' | ')}`);

    // 5. A host lost with its VMs.
    const lostIdx = Math.min(HOSTS - 1, CANDIDATES + 7);
    const lost = hostName(lostIdx);
    // The HA VMs the bench put on it (not a listing of every record: that is what the manager no longer does).
    const haOnLost: string[] = [];
    for (let i = 0; i < VMS; i++) if (i % 10 === 0 && hostName(Math.floor(i / perHost) % HOSTS) === lost) haOnLost.push(`vm-${String(i).padStart(6, '0')}`);
    t = performance.now();
    crashed.add(lostIdx);
    await agents[lostIdx]!.crash();
    let doneMs = NaN;
    let goneMs = NaN;
    const deadline = Date.now() + (TTL * 1000 + 300_000);
    while (Date.now() < deadline) {
      if (Number.isNaN(goneMs) && !(await listHosts(kv, PREFIX)).some((h) => h.name === lost)) goneMs = performance.now() - t;
      if (haOnLost.every((n) => restarted.has(n))) {
        doneMs = performance.now() - t;
        break;
      }
      await sleep(250);
    }
    rows.push([`host ${lost} lost with ${haOnLost.length} HA VMs`, `${s1(doneMs)} s to all restarted elsewhere`, `lease gone after ${s1(goneMs)} s (TTL ${TTL} s, fence margin 3 s)`]);
    log(`loss: ${rows.at(-1)!.slice(1).join(' | ')}`);

    // 6. Leader change: the leader's lease is lost; another candidate's first pass.
    const leader = await currentLeader(kv, 'ha', PREFIX);
    const leaderIdx = leader ? Number(leader.candidate.slice(1)) : -1;
    if (leaderIdx >= 0 && leaderIdx < CANDIDATES) {
      t = performance.now();
      const t0 = Date.now();
      crashed.add(leaderIdx);
      await agents[leaderIdx]!.crash();
      let changeMs = NaN;
      let firstMs = NaN;
      while (performance.now() - t < TTL * 1000 + 600_000) {
        const next = [...passes.entries()].filter(([c]) => c !== leaderIdx).map(([, p]) => p.find((x) => x.end >= t0)).find((x) => x !== undefined);
        if (next) {
          changeMs = next.end - t0;
          firstMs = next.ms;
          break;
        }
        await sleep(100);
      }
      const now = await currentLeader(kv, 'ha', PREFIX);
      rows.push([`HA manager leader ${hostName(leaderIdx)} lost (its agent stops renewing)`, `${s1(changeMs)} s to the end of the new leader's first pass`, `new leader ${now?.candidate ?? '?'}; that pass (reading every record into its cache) ${s1(firstMs)} s`]);
      log(`leader: ${rows.at(-1)!.slice(1).join(' | ')}`);
    }

    const mem = await etcdMetrics(etcd.endpoints[0]!);
    rows.push(['leases lost and taken again (renewal not answered within the TTL)', `${lostLeases.length}`, lostLeases.slice(0, 3).join('; ') || 'none']);
    rows.push(['memory', `etcd ${mib(await etcdRss(etcd))} MiB RSS (3 members)`, `this process (agents, managers, executors) ${mib(process.memoryUsage().rss)} MiB RSS; etcd db ${mib(mem.dbBytes)} MiB`]);
  } finally {
    ctl.abort();
    await Promise.allSettled(loops);
    await Promise.allSettled(agents.map((a) => a.crash()));
    for (const c of closers) await c().catch(() => undefined);
    etcd.stop();
  }
  const body = [
    `Scale simulation on real etcd (bench/cluster-scale.ts): ${HOSTS} simulated host agents in one process (an etcd client each) and ${VMS.toLocaleString('en-US')} VM records, lease TTL ${TTL} s, HA executors' fallback pass every ${EXECUTOR_TICK_MS / 1000} s. QEMU is faked at the driver boundary (an HA restart is the take-over's compare-and-set alone, no process); agents, leases, election, HA manager and executors are the product's code. ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, ${os.cpus().length} cores, load ${loadNow()}.`,
    '',
    table(['phase', 'result', 'detail'], rows),
    '',
  ].join('\n');
  process.stdout.write(body);
  if (process.env['BENCH_WRITE'] !== '0') writeSection(path.resolve(import.meta.dirname, '..', 'docs', 'benchmarks.md'), 'cluster-scale', body);
}

await main();
