/**
 * Cold-start benchmark (run by hand: `bash bench/run.sh`). Boots the test guest with
 * A) Polyvisor's CLI + daemon, B) the same QEMU argv by hand, C) libvirt, in one run,
 * prints a table and writes the "cold-start" section of docs/benchmarks.md.
 *
 * Env: BENCH_ROUNDS (default 7), POLYVISOR_TEST_GUEST (guest dir, default the cached one),
 * BENCH_MAX_LOAD / BENCH_QUIET_WAIT_S (first wait up to 600 s for a 1-minute load average ≤ 1.0).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { METHODS, consoleReport, markdownSection, type Method } from './lib/cold-start-section.js';
import { measureStartup } from './lib/cli-startup.js';
import { loadGuest, type Guest } from './lib/guest.js';
import { defineDomain, domainXml, ensureLibvirt, qemuConfUser, stopLibvirt, undefineDomain, type StartedDaemon } from './lib/libvirt.js';
import { describeMachine, loadNow } from './lib/machine.js';
import { libvirtColdStart, polyvisorColdStart, rawColdStart, type Sample } from './lib/methods.js';
import { ROOT, cli, cliOk, show, startDaemon, stopDaemon, type Daemon } from './lib/polyvisor.js';
import { cmdlineOf, qemusMentioning, sleep, stopPid } from './lib/proc.js';
import { rewriteArgv } from './lib/raw-qemu.js';
import { writeSection } from './lib/report.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);
const VM = 'coldstart';
const DOMAIN = 'pvbench-coldstart';
const SETTLE_MS = 500;
const MAX_LOAD = Number(process.env['BENCH_MAX_LOAD'] ?? 1.0);
const QUIET_WAIT_S = Number(process.env['BENCH_QUIET_WAIT_S'] ?? 600);

const log = (s: string): void => void process.stderr.write(`[cold-start] ${s}\n`);
const s3 = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;

/** Everything this run started, so that `cleanUp` can stop it by PID. */
interface Started {
  root: string;
  daemon: Daemon | null;
  libvirt: StartedDaemon[];
  domain: boolean;
}

interface Prepared {
  run: Record<Method, () => Promise<Sample>>;
  rawArgv: string[];
  rawNotes: string[];
  libvirtArgv: string[];
}

async function prepare(st: Started, guest: Guest): Promise<Prepared> {
  const [stateDir, rawDir, virtDir] = ['s', 'r', 'v'].map((d) => path.join(st.root, d)) as [string, string, string];
  for (const d of [stateDir, rawDir, virtDir]) mkdirSync(d, { mode: 0o755 });
  const ready = guest.readyLine;

  log('libvirt: connecting to qemu:///system (starting virtlogd/libvirtd by hand if needed)');
  st.libvirt = await ensureLibvirt();
  for (const d of st.libvirt) log(`  started ${d.name} (PID ${d.pid})`);
  const virtLog = path.join(virtDir, 'serial.log');
  st.domain = true;
  await defineDomain(domainXml({
    name: DOMAIN, memoryMiB: 256, vcpus: 1, machine: 'q35', cpuModel: 'max',
    kernel: guest.kernel, initrd: guest.initrd, cmdline: guest.cmdline,
    serialLog: virtLog, agentSocket: path.join(virtDir, 'qga.sock'),
  }), path.join(virtDir, 'domain.xml'), DOMAIN);

  log(`polyvisord: --state-dir ${stateDir}`);
  const daemon = await startDaemon(stateDir);
  st.daemon = daemon;
  await cliOk(daemon, 'vm', 'create', VM, '--cpus', '1', '--memory', '256Mi',
    '--kernel', guest.kernel, '--initrd', guest.initrd, '--append', guest.cmdline);
  const files = (await show(daemon, VM)).files;
  const vm = { daemon, name: VM, serialLog: files.serialLog };

  log('warm-up round (untimed): A, capturing its QEMU argv for B; then B and C');
  let daemonArgv: string[] = [];
  log(`  A ${s3((await polyvisorColdStart(vm, ready, (pid) => (daemonArgv = cmdlineOf(pid)))).readyMs)}`);
  const raw = rewriteArgv(daemonArgv, files.dir, rawDir);
  const leftover = raw.argv.filter((x) => x.includes(stateDir));
  if (leftover.length > 0) raw.notes.push(`arguments left under the daemon's state dir (not rewritten): ${leftover.join(' ')}`);
  const rawLog = path.join(rawDir, path.relative(files.dir, files.serialLog));
  const run: Record<Method, () => Promise<Sample>> = {
    A: () => polyvisorColdStart(vm, ready),
    B: () => rawColdStart(raw, rawDir, rawLog, ready),
    C: () => libvirtColdStart(DOMAIN, virtLog, ready),
  };
  log(`  B ${s3((await run.B()).readyMs)}`);
  let libvirtArgv: string[] = [];
  log(`  C ${s3((await libvirtColdStart(DOMAIN, virtLog, ready, (pid) => (libvirtArgv = cmdlineOf(pid)))).readyMs)}`);
  return { run, rawArgv: raw.argv, rawNotes: raw.notes, libvirtArgv };
}

function libvirtSetup(st: Started): string[] {
  const user = qemuConfUser();
  return [
    'Debian packages `libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients` '
      + '(`apt-get install -y --no-install-recommends`), plus a system user `libvirt-qemu` created by '
      + '`bench/run.sh` (`useradd --system --user-group`), since `libvirt-daemon-system` (which creates it) is not installed.',
    'No systemd: `mkdir -p /var/log/libvirt`, then `virtlogd -d` (libvirt sends QEMU\'s stdout/stderr '
      + 'through it; without it `virsh start` fails with "Failed to connect socket to \'/run/libvirt/virtlogd-sock\'") and `libvirtd -d`.',
    `\`/etc/libvirt/qemu.conf\`: \`user = "${user ?? '(unset: libvirt-qemu)'}"\`. \`bench/run.sh\` writes \`user = "root"\` / \`group = "root"\` `
      + 'when the file is missing. Besides letting QEMU read the guest under /root/.cache, this matters for the numbers: '
      + 'here /dev/kvm is root-only, so with QEMU as `libvirt-qemu` libvirt finds its cached capabilities stale '
      + '("KVM was enabled when probing …, but it is not available now") and re-probes QEMU twice on every `virsh start` '
      + '(about 3.3 s extra; `virsh start` took 4.1–4.5 s instead of 0.4–0.5 s).',
    st.libvirt.length > 0
      ? `This run started ${st.libvirt.map((d) => `${d.name} (PID ${d.pid})`).join(' and ')} and stopped them by PID at the end.`
      : 'libvirtd was already running when this run started; it was left running.',
  ];
}

/** Waits (bounded) for other work on the machine to calm down; returns a line for the report. */
async function waitQuiet(): Promise<string> {
  const t0 = Date.now();
  let said = 0;
  while (os.loadavg()[0]! > MAX_LOAD) {
    const waited = (Date.now() - t0) / 1000;
    if (waited >= QUIET_WAIT_S) {
      log(`load average still ${loadNow()} after ${QUIET_WAIT_S} s; measuring anyway`);
      return `The 1-minute load average stayed above ${MAX_LOAD} for ${QUIET_WAIT_S} s before the run (other work on the machine); it ran anyway.`;
    }
    if (waited - said >= 30 || said === 0) {
      log(`waiting for a 1-minute load average ≤ ${MAX_LOAD} (now ${loadNow()}; up to ${QUIET_WAIT_S} s)`);
      said = Math.max(waited, 1);
    }
    await sleep(5_000);
  }
  return `Before the run it waited ${Math.round((Date.now() - t0) / 1000)} s for the 1-minute load average to drop to ${MAX_LOAD} or less.`;
}

async function cleanUp(st: Started): Promise<void> {
  const step = async (what: string, f: () => Promise<unknown>) => {
    try {
      await f();
    } catch (err) {
      log(`cleanup: ${what} failed: ${(err as Error).message}`);
    }
  };
  if (st.daemon) {
    const d = st.daemon;
    await step('vm kill', () => cli(d, 'vm', 'kill', VM));
    await step('vm rm', () => cli(d, 'vm', 'rm', VM, '--force'));
    await step('stop polyvisord', () => stopDaemon(d));
  }
  for (const pid of qemusMentioning(st.root)) await step(`stop QEMU ${pid}`, () => stopPid(pid, 'SIGKILL'));
  if (st.domain) await step('undefine domain', () => undefineDomain(DOMAIN));
  await step('stop libvirt daemons', () => stopLibvirt(st.libvirt));
  rmSync(st.root, { recursive: true, force: true });
}

async function main(): Promise<void> {
  if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`BENCH_ROUNDS must be a positive integer, not ${ROUNDS}`);
  const guest = loadGuest();
  const st: Started = { root: mkdtempSync('/tmp/pvb-'), daemon: null, libvirt: [], domain: false };
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    log('interrupted: finishing the current start, then cleaning up');
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  try {
    const quiet = await waitQuiet();
    const machine = await describeMachine('qemu-system-x86_64');
    const p = await prepare(st, guest);
    const samples: Record<Method, Sample[]> = { A: [], B: [], C: [] };
    const orders: string[] = [];
    const loads: string[] = [];
    for (let round = 0; round < ROUNDS && !interrupted; round++) {
      const order = METHODS.map((_, i) => METHODS[(i + round) % METHODS.length]!);
      orders.push(order.join(''));
      loads.push(os.loadavg()[0]!.toFixed(2));
      for (const m of order) {
        await sleep(SETTLE_MS);
        const s = await p.run[m]();
        samples[m].push(s);
        log(`round ${round + 1}/${ROUNDS} ${m}: ready ${s3(s.readyMs)}, returned ${s3(s.returnedMs)}`);
      }
    }
    if (interrupted) throw new Error('interrupted before all rounds ran; docs/benchmarks.md left as it was');
    const startup = await measureStartup();
    const result = {
      machine, loadAfter: loadNow(), quiet, guest, rounds: ROUNDS, orders, loads, samples, startup,
      rawArgv: p.rawArgv, rawNotes: p.rawNotes, libvirtArgv: p.libvirtArgv, libvirtSetup: libvirtSetup(st),
    };
    process.stdout.write(consoleReport(result) + '\n');
    const doc = path.join(ROOT, 'docs', 'benchmarks.md');
    writeSection(doc, 'cold-start', markdownSection(result));
    log(`wrote ${path.relative(ROOT, doc)}`);
  } finally {
    await cleanUp(st);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[cold-start] failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
