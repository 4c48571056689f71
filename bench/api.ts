/**
 * API benchmark (run by hand: `bash bench/run.sh api`): requests per second
 * and p50/p99 latency of listing 1,000 VMs (`GET /v1/vms`) and of a status
 * query on a running VM (`GET /v1/vms/NAME`), side by side with `virsh list
 * --all` over 1,000 defined libvirt domains and `virsh domstate` on a running
 * one, in the same run, rounds interleaved. Writes the "api" section of
 * docs/benchmarks.md.
 *
 * Env: BENCH_ROUNDS (default 3), BENCH_VMS (default 1000), BENCH_SECONDS
 * (throughput window per measurement, default 3), POLYVISOR_TEST_GUEST.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PlatformClient, PolyvisorClient } from '../src/client/index.js';
import { VirshSession, httpGetter, latencies, percentile, processCall, throughput, type Call } from './lib/api-load.js';
import { loadGuest, type Guest } from './lib/guest.js';
import { domainXml, ensureLibvirt, stopLibvirt, type StartedDaemon } from './lib/libvirt.js';
import { describeMachine, loadNow } from './lib/machine.js';
import { ROOT, startDaemon, stopDaemon, type Daemon } from './lib/polyvisor.js';
import { qemusMentioning, runOk, stopPid } from './lib/proc.js';
import { table, writeSection } from './lib/report.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const VMS = Number(process.env['BENCH_VMS'] ?? 1000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const CONCURRENCY = 4;
const URI = 'qemu:///system';
const PREFIX = 'pvapi';
const RUNNING = `${PREFIX}-run`;

const log = (s: string): void => void process.stderr.write(`[api] ${s}\n`);
const names = (): string[] => [RUNNING, ...Array.from({ length: VMS - 1 }, (_, i) => `${PREFIX}-${String(i).padStart(4, '0')}`)];

interface Method {
  name: string;
  how: string;
  list: Call;
  status: Call;
  /** Calls run one at a time for latency (fewer for process-per-call methods). */
  samples: { list: number; status: number };
  /** Up to CONCURRENCY callers for throughput. */
  par: { list: Call[]; status: Call[] };
}

interface Result {
  list: number[];
  status: number[];
  listRps: number[];
  statusRps: number[];
}

interface Started {
  root: string;
  daemon: Daemon | null;
  libvirt: StartedDaemon[];
  sessions: VirshSession[];
  domains: boolean;
  /** Domains libvirt had before this run (listed by `virsh list --all` too). */
  foreignDomains: number;
  closers: Array<() => void>;
}

async function inBatches<T>(items: T[], n: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++]!);
  }));
}

/**
 * A private copy of bin/ and dist/ (node_modules linked), so a teammate's
 * `npm run build` during the run cannot hand the CLI half-written modules.
 */
async function snapshotApp(root: string): Promise<{ daemon: string; cli: string }> {
  const app = path.join(root, 'app');
  mkdirSync(app);
  for (const d of ['bin', 'dist']) cpSync(path.join(ROOT, d), path.join(app, d), { recursive: true });
  cpSync(path.join(ROOT, 'package.json'), path.join(app, 'package.json'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(app, 'node_modules'));
  const cli = path.join(app, 'bin', 'polyvisor.js');
  await runOk(process.execPath, [cli, '--version'], 60_000);
  return { daemon: path.join(app, 'bin', 'polyvisord.js'), cli };
}

async function preparePolyvisor(st: Started, guest: Guest): Promise<Method[]> {
  const stateDir = path.join(st.root, 's');
  mkdirSync(stateDir);
  const app = await snapshotApp(st.root);
  st.daemon = await startDaemon(stateDir, { listen: '127.0.0.1:0', env: { POLYVISOR_API_RATE_LIMIT: '0' }, daemonJs: app.daemon });
  const info = JSON.parse(readFileSync(path.join(stateDir, 'daemon.json'), 'utf8')) as { url: string; socket: string };
  const local = new PolyvisorClient({ endpoint: { socketPath: info.socket }, timeoutMs: 120_000 });
  const boot = { kernel: guest.kernel, initrd: guest.initrd, cmdline: guest.cmdline };
  const t0 = Date.now();
  await inBatches(names(), 8, (name) => local.createVm({ name, memory: '64Mi', boot }));
  log(`polyvisor: created ${VMS} VMs in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await local.action(RUNNING, 'start');
  const token = (await new PlatformClient({ endpoint: { socketPath: info.socket } }).createToken('bench', 'viewer')).token;
  const listed = await local.listVms();
  if (listed.length !== VMS) throw new Error(`GET /v1/vms lists ${listed.length} VMs, wanted ${VMS}`);
  if ((await local.getVm(RUNNING)).state !== 'running') throw new Error(`${RUNNING} is not running`);
  const u = new URL(info.url);
  const unix = httpGetter({ socketPath: info.socket }, CONCURRENCY);
  const tcp = httpGetter({ host: u.hostname, port: Number(u.port), token }, CONCURRENCY);
  st.closers.push(unix.close, tcp.close);
  const cli = (...args: string[]) => processCall(process.execPath, [app.cli, '--socket', info.socket, ...args]);
  const rep = (c: Call): Call[] => Array.from({ length: CONCURRENCY }, () => c);
  const http = (name: string, how: string, g: typeof unix): Method => ({
    name, how, list: g.get('/v1/vms'), status: g.get(`/v1/vms/${RUNNING}`),
    samples: { list: 100, status: 400 }, par: { list: rep(g.get('/v1/vms')), status: rep(g.get(`/v1/vms/${RUNNING}`)) },
  });
  return [
    http('polyvisor REST, unix socket', 'keep-alive HTTP over the unix socket (trusted, no token)', unix),
    http('polyvisor REST, TCP + token', 'keep-alive HTTP over 127.0.0.1 with a Bearer token (rate limit off)', tcp),
    {
      name: 'polyvisor CLI', how: '`polyvisor vm list --json` / `vm show NAME --json`, one process per call (socket)',
      list: cli('vm', 'list', '--json'), status: cli('vm', 'show', RUNNING, '--json'),
      samples: { list: 20, status: 20 }, par: { list: rep(cli('vm', 'list', '--json')), status: rep(cli('vm', 'show', RUNNING, '--json')) },
    },
  ];
}

async function prepareLibvirt(st: Started, guest: Guest): Promise<Method[]> {
  const dir = path.join(st.root, 'v');
  mkdirSync(dir, { mode: 0o755 });
  log('libvirt: connecting to qemu:///system (starting virtlogd/libvirtd by hand if needed)');
  st.libvirt = await ensureLibvirt();
  for (const d of st.libvirt) log(`  started ${d.name} (PID ${d.pid})`);
  for (let i = 0; i < CONCURRENCY; i++) st.sessions.push(new VirshSession(URI));
  const s = st.sessions[0]!;
  const existing = (await s.run('list --all --name')).split('\n').map((l) => l.trim()).filter((n) => n.startsWith(`${PREFIX}-`));
  for (const n of existing) await cleanDomain(s, n);
  const t0 = Date.now();
  st.domains = true;
  for (const name of names()) {
    const file = path.join(dir, `${name}.xml`);
    writeFileSync(file, domainXml({
      name, memoryMiB: 64, vcpus: 1, machine: 'pc', cpuModel: 'max',
      kernel: guest.kernel, initrd: guest.initrd, cmdline: guest.cmdline,
      serialLog: path.join(dir, `${name}.serial.log`), agentSocket: null,
    }));
    await s.run(`define ${file}`);
  }
  log(`libvirt: defined ${VMS} domains in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await s.run(`start ${RUNNING}`);
  const all = (await s.run('list --all --name')).split('\n').filter((n) => n.trim().startsWith(`${PREFIX}-`));
  if (all.length !== VMS) throw new Error(`virsh list --all shows ${all.length} ${PREFIX}- domains, wanted ${VMS}`);
  if (!(await s.run(`domstate ${RUNNING}`)).includes('running')) throw new Error(`${RUNNING} is not running under libvirt`);
  const foreign = (await otherDomains(true)).length;
  if (foreign) log(`note: libvirt also has ${foreign} other domains; virsh list --all lists them too`);
  st.foreignDomains = foreign;
  const sess = (cmd: string) => st.sessions.map((x) => () => x.run(cmd).then(() => undefined));
  const proc = (...args: string[]) => processCall('virsh', ['-c', URI, ...args]);
  const rep = (c: Call): Call[] => Array.from({ length: CONCURRENCY }, () => c);
  return [
    {
      name: 'virsh, one session', how: '`list --all` / `domstate NAME` typed into long-lived `virsh` processes (connection kept, like keep-alive)',
      list: sess('list --all')[0]!, status: sess(`domstate ${RUNNING}`)[0]!,
      samples: { list: 100, status: 400 }, par: { list: sess('list --all'), status: sess(`domstate ${RUNNING}`) },
    },
    {
      name: 'virsh, one process per call', how: '`virsh -c qemu:///system list --all` / `domstate NAME`, as a script runs it',
      list: proc('list', '--all'), status: proc('domstate', RUNNING),
      samples: { list: 20, status: 20 }, par: { list: rep(proc('list', '--all')), status: rep(proc('domstate', RUNNING)) },
    },
  ];
}

/** Domains not made by this benchmark (asked of a fresh virsh: a session's output also holds its prompts). */
async function otherDomains(all: boolean): Promise<string[]> {
  const out = await runOk('virsh', ['-c', URI, 'list', ...(all ? ['--all'] : []), '--name'], 60_000);
  return out.split('\n').map((l) => l.trim()).filter((n) => n && !n.startsWith(`${PREFIX}-`));
}

async function cleanDomain(s: VirshSession, name: string): Promise<void> {
  await s.run(`destroy ${name}`);
  await s.run(`undefine ${name}`);
}

/** Calls per second of CONCURRENCY callers, caller k always on its own connection, session or process slot. */
async function parallel(calls: Call[]): Promise<number> {
  const rates = await Promise.all(calls.map((c) => throughput(c, 1, SECONDS * 1000)));
  return rates.reduce((a, b) => a + b, 0);
}

async function measure(m: Method, r: Result): Promise<void> {
  for (let i = 0; i < Math.min(20, m.samples.list); i++) await m.list(); // warm-up (connections, JIT, caches)
  r.list.push(...await latencies(m.list, m.samples.list));
  r.status.push(...await latencies(m.status, m.samples.status));
  r.listRps.push(await parallel(m.par.list));
  r.statusRps.push(await parallel(m.par.status));
}

async function cleanUp(st: Started): Promise<void> {
  for (const c of st.closers) c();
  if (st.domains && st.sessions[0]) {
    log('libvirt: undefining the benchmark domains');
    for (const name of names()) await cleanDomain(st.sessions[0], name);
  }
  // Someone else may have started using the libvirtd this run started: do not pull it from under them.
  const others = st.libvirt.length ? await otherDomains(false) : [];
  for (const s of st.sessions) await s.close();
  if (st.daemon) await stopDaemon(st.daemon);
  for (const pid of qemusMentioning(st.root)) await stopPid(pid, 'SIGKILL');
  if (others.length && st.libvirt.length) {
    log(`not stopping ${st.libvirt.map((d) => `${d.name} (PID ${d.pid})`).join(', ')}: other domains run under it (${others.join(', ')}); stop them by PID when those are done`);
  } else await stopLibvirt(st.libvirt);
  rmSync(st.root, { recursive: true, force: true });
}

const med = (xs: number[]): number => percentile(xs, 50);
const ms = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(1));
const rps = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

function section(methods: Method[], results: Result[], machine: Awaited<ReturnType<typeof describeMachine>>, loads: string[], foreign: number): string {
  const rows = methods.map((m, i) => {
    const r = results[i]!;
    return [m.name, ms(percentile(r.list, 50)), ms(percentile(r.list, 99)), rps(med(r.listRps)), ms(percentile(r.status, 50)), ms(percentile(r.status, 99)), rps(med(r.statusRps))];
  });
  const by = (n: string): Result => results[methods.findIndex((m) => m.name === n)]!;
  const ratio = (a: string, b: string, f: (r: Result) => number, higherIsBetter: boolean): string => {
    const x = f(by(a));
    const y = f(by(b));
    return `${(x / y).toFixed(2)}× (${higherIsBetter ? 'higher is better' : 'lower is better'})`;
  };
  const pairs: Array<[string, string]> = [['polyvisor REST, unix socket', 'virsh, one session'], ['polyvisor REST, TCP + token', 'virsh, one session'], ['polyvisor CLI', 'virsh, one process per call']];
  const ratioRows = pairs.map(([a, b]) => [
    `${a} / ${b}`,
    ratio(a, b, (r) => percentile(r.list, 50), false),
    ratio(a, b, (r) => med(r.listRps), true),
    ratio(a, b, (r) => percentile(r.status, 50), false),
    ratio(a, b, (r) => med(r.statusRps), true),
  ]);
  return `## API: listing ${VMS} VMs and a status query, polyvisor vs virsh

\`bench/api.ts\`, ${machine.date}: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memoryGiB} GiB, ${machine.kernel},
${machine.libvirt}, Node ${machine.node}. Load average at the start of each round: ${loads.join('; ')}.

Each side has ${VMS} VMs: Polyvisor ${VMS} in its SQLite store (created through the API,
direct-kernel specs of the test guest), libvirt ${VMS} defined domains (the same guest,
64 MiB, from one XML template); on each, one of them (\`${RUNNING}\`) runs under TCG and the
rest are stopped${foreign ? ` (libvirt also had ${foreign} other domains, which \`virsh list --all\` lists too)` : ''}. The list is \`GET /v1/vms\` (all ${VMS} VM views as JSON) against
\`virsh list --all\`; the status query \`GET /v1/vms/${RUNNING}\` against \`virsh domstate ${RUNNING}\`.
${ROUNDS} rounds, the methods interleaved in each round. Latency: calls one at a time
(per round ${methods.map((m) => `${m.samples.list}/${m.samples.status}`).join(', ')} list/status calls
for the rows below, in order), p50 and p99 over all rounds. Requests per second: ${CONCURRENCY}
callers at once for ${SECONDS} s (${CONCURRENCY} keep-alive connections, ${CONCURRENCY} virsh sessions,
or ${CONCURRENCY} processes at a time), median of the rounds.

${methods.map((m) => `- **${m.name}**: ${m.how}.`).join('\n')}

${table(['method', 'list p50 ms', 'list p99 ms', 'list req/s', 'status p50 ms', 'status p99 ms', 'status req/s'], rows)}

The rounds interleave the methods so that a busy machine (see the load averages above; they count other work on the host) slows every row alike: read the ratios rather than the absolute numbers. The process-per-call rows pay for starting a process each time (Node.js for the CLI, a C binary for virsh); the REST and session rows do not.

Ratios (polyvisor over virsh; a latency ratio under 1 or a req/s ratio over 1 means Polyvisor is faster):

${table(['pair', 'list p50', 'list req/s', 'status p50', 'status req/s'], ratioRows)}
`;
}

async function main(): Promise<void> {
  const guest = loadGuest();
  const st: Started = { root: mkdtempSync(path.join(os.tmpdir(), 'pv-api-bench-')), daemon: null, libvirt: [], sessions: [], domains: false, foreignDomains: 0, closers: [] };
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const machine = await describeMachine('qemu-system-x86_64');
    const methods = [...await preparePolyvisor(st, guest), ...await prepareLibvirt(st, guest)];
    const results: Result[] = methods.map(() => ({ list: [], status: [], listRps: [], statusRps: [] }));
    const loads: string[] = [];
    for (let round = 1; round <= ROUNDS && !interrupted; round++) {
      loads.push(loadNow());
      log(`round ${round}/${ROUNDS} (load ${loadNow()})`);
      const order = round % 2 === 1 ? methods.map((_, i) => i) : methods.map((_, i) => i).reverse();
      for (const i of order) {
        if (interrupted) break;
        await measure(methods[i]!, results[i]!);
        const r = results[i]!;
        log(`  ${methods[i]!.name}: list p50 ${ms(percentile(r.list, 50))} ms, ${rps(r.listRps.at(-1)!)} req/s; status p50 ${ms(percentile(r.status, 50))} ms, ${rps(r.statusRps.at(-1)!)} req/s`);
      }
    }
    if (interrupted) throw new Error('interrupted; docs/benchmarks.md left as it was');
    const body = section(methods, results, machine, loads, st.foreignDomains);
    process.stdout.write(body);
    writeSection(path.join(ROOT, 'docs', 'benchmarks.md'), 'api', body);
    log('wrote the "api" section of docs/benchmarks.md');
  } finally {
    await cleanUp(st);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[api] ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
