/** The cold-start benchmark's results as a console table and as its docs/benchmarks.md section. Pure. */
import type { StartupCost } from './cli-startup.js';
import type { Guest } from './guest.js';
import type { Machine } from './machine.js';
import type { Sample } from './methods.js';
import { table } from './report.js';
import { overheadPct, ratio, secs, summarize, type Summary } from './stats.js';

export type Method = 'A' | 'B' | 'C';
export const METHODS: readonly Method[] = ['A', 'B', 'C'];
export const TARGET_OVERHEAD = 0.05;

export const LABELS: Record<Method, string> = {
  A: 'A. Polyvisor (`polyvisor vm start`, CLI → daemon)',
  B: 'B. raw QEMU (same argv, by hand)',
  C: 'C. libvirt (`virsh start`)',
};

export interface ColdStartResult {
  machine: Machine;
  loadAfter: string;
  /** What waiting for a quiet machine achieved. */
  quiet: string;
  guest: Guest;
  rounds: number;
  orders: string[];
  /** 1-minute load average before each round. */
  loads: string[];
  samples: Record<Method, Sample[]>;
  /** Process start costs measured after the rounds. */
  startup: StartupCost;
  rawArgv: string[];
  rawNotes: string[];
  libvirtArgv: string[];
  libvirtSetup: string[];
}

interface Stats {
  ready: Record<Method, Summary>;
  returned: Record<Method, Summary>;
  created: Record<Method, Summary | null>;
  boot: Record<Method, Summary | null>;
}

/** Summary, or null when a sample lacks the value (NaN). */
const maybe = (xs: number[]): Summary | null => (xs.some(Number.isNaN) ? null : summarize(xs));

function stats(r: ColdStartResult): Stats {
  const by = <T>(f: (xs: Sample[]) => T) => Object.fromEntries(METHODS.map((m) => [m, f(r.samples[m])])) as Record<Method, T>;
  return {
    ready: by((xs) => summarize(xs.map((s) => s.readyMs))),
    returned: by((xs) => summarize(xs.map((s) => s.returnedMs))),
    created: by((xs) => maybe(xs.map((s) => s.logCreatedMs))),
    boot: by((xs) => maybe(xs.map((s) => s.readyMs - s.logCreatedMs))),
  };
}

const med = (x: Summary | null): string => (x === null ? 'n/a' : secs(x.median));

export function verdict(r: ColdStartResult): string {
  const { ready } = stats(r);
  const over = ready.A.median / ready.B.median - 1;
  const ok = over <= TARGET_OVERHEAD;
  return `${ok ? 'MET' : 'MISSED'}: Polyvisor's median cold start is ${overheadPct(ready.A.median, ready.B.median)} `
    + `(${secs(ready.A.median - ready.B.median)} s) over raw QEMU; the target is at most +${TARGET_OVERHEAD * 100}%.`;
}

/** How much later than the raw command Polyvisor gets QEMU going (medians of "log created"). */
export function preLaunchLine(r: ColdStartResult): string {
  const { created } = stats(r);
  if (created.A === null || created.B === null) return 'the serial log was not seen being created, so the pre-launch time is unknown';
  return `before QEMU runs, Polyvisor takes ${secs(created.A.median - created.B.median)} s longer than the raw command `
    + `(serial log created after ${secs(created.A.median)} s vs ${secs(created.B.median)} s, medians); `
    + `for scale, \`polyvisor --version\` alone takes ${secs(r.startup.cli)} s and \`node -e 0\` ${secs(r.startup.node)} s`;
}

function mainTable(r: ColdStartResult): { head: string[]; rows: string[][] } {
  const s = stats(r);
  const head = ['method', 'ready median (s)', 'min (s)', 'max (s)', 'returned (s)', 'log created (s)', 'created → ready (s)'];
  const rows = METHODS.map((m) => [
    LABELS[m], secs(s.ready[m].median), secs(s.ready[m].min), secs(s.ready[m].max),
    secs(s.returned[m].median), med(s.created[m]), med(s.boot[m]),
  ]);
  return { head, rows };
}

function ratioLine(r: ColdStartResult): string {
  const { ready } = stats(r);
  const [a, b, c] = [ready.A.median, ready.B.median, ready.C.median];
  return `A/B ${ratio(a, b)} (${overheadPct(a, b)}), C/B ${ratio(c, b)} (${overheadPct(c, b)}), A/C ${ratio(a, c)} (${overheadPct(a, c)})`;
}

/** Median over rounds of x_i − y_i (same round, so slow drift of the machine cancels). */
function pairedLine(r: ColdStartResult): string {
  const d = (x: Method, y: Method) => {
    const diffs = r.samples[x].map((s, i) => s.readyMs - r.samples[y][i]!.readyMs);
    const m = summarize(diffs);
    return `${x}−${y} ${secs(m.median)} s (range ${secs(m.min)} … ${secs(m.max)})`;
  };
  return `${d('A', 'B')}, ${d('C', 'B')}, ${d('A', 'C')}`;
}

/** Plain-text summary for stdout. */
export function consoleReport(r: ColdStartResult): string {
  const { head, rows } = mainTable(r);
  const plain = [head, ...rows.map((row) => [row[0]!.replace(/`/g, ''), ...row.slice(1)])];
  const widths = head.map((_, i) => Math.max(...plain.map((row) => row[i]!.length)));
  const lines = plain.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  return [`cold start to "${r.guest.readyLine}", ${r.rounds} rounds`, ...lines, `ratios of medians: ${ratioLine(r)}`, `paired per-round differences, median: ${pairedLine(r)}`, preLaunchLine(r).replace(/`/g, ''), verdict(r)].join('\n');
}

const fence = (argv: string[]): string => ['```', argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' '), '```'].join('\n');

/** The markdown section (without markers). */
export function markdownSection(r: ColdStartResult): string {
  const { head, rows } = mainTable(r);
  const m = r.machine;
  const perRound = table(
    ['round', 'order', 'load before', 'A ready', 'B ready', 'C ready', 'A log created', 'B log created', 'C log created'],
    r.orders.map((order, i) => [
      String(i + 1), order, r.loads[i] ?? '?',
      ...(['readyMs', 'logCreatedMs'] as const).flatMap((k) => METHODS.map((x) => secs(r.samples[x][i]![k]))),
    ]),
  );
  return `## Cold start: Polyvisor vs raw QEMU vs libvirt

Measured ${m.date} by \`bash bench/run.sh\` (\`bench/cold-start.ts\`), ${r.rounds} rounds.

**Verdict — ${verdict(r)}**

${table(head, rows)}

Ratios of the ready medians: ${ratioLine(r)}.
Per-round paired differences of "ready" (median and range over rounds): ${pairedLine(r)}.

Where the time goes: ${preLaunchLine(r)}. "returned" is when the command exited;
"log created" is when the VM's serial log file appeared: for A and B, QEMU creates it while
opening its chardevs, before its machine is built (B: just before \`-daemonize\` returns), so it marks QEMU starting and
"created → ready" is QEMU plus the guest's boot (the same for both, and where most of the
run-to-run noise is). For C, libvirt creates the file early in its own start sequence, so
C's "created → ready" still includes most of libvirt's work before QEMU runs.

### What is measured

Cold start of the test guest (\`guest/build.sh\`: kernel ${r.guest.kernelVersion} + busybox initramfs,
cmdline \`${r.guest.cmdline}\`): direct kernel boot, 256 MiB, 1 vCPU, TCG, no disk, from
"command issued" to the line \`${r.guest.readyLine}\` (printed by the guest's init once
userspace is up) appearing in the VM's serial log, polled every 5 ms. Stopping the VM
after each start is not timed. One untimed warm-up round of each method comes first;
then each round runs A, B and C once, in an order that rotates from round to round
(ABC, BCA, CAB, …) to spread drift and noise over all three.

- **A — Polyvisor**: \`node bin/polyvisor.js --socket … vm start NAME\` against a real
  \`polyvisord --state-dir /tmp/… --listen off --accel tcg\`; the VM was made once with
  \`vm create NAME --cpus 1 --memory 256Mi --kernel … --initrd … --append …\`. Ready = the
  line in \`vm show --json\` → \`files.serialLog\` (the daemon moves the previous log to
  \`serial.log.1\` at each start; the poller follows the new file). "Command returned" is when the CLI
  exited. After each round: \`vm kill NAME\`. A includes a Node.js CLI process start.
- **B — raw QEMU**: the argv the daemon ran (read from \`/proc/PID/cmdline\` of the QEMU
  of A's warm-up round) with the VM's runtime directory rewritten to a scratch
  directory, spawned directly. It uses \`-daemonize\`, so "command returned" is when the
  foreground QEMU exited. After each round: SIGKILL by the PID in its pidfile.
- **C — libvirt**: \`virsh -c qemu:///system start\` of a defined domain
  (\`<domain type='qemu'>\`, machine q35, \`<cpu mode='maximum'/>\` = \`-cpu max\` as
  Polyvisor uses, ACPI, a guest-agent virtio channel as Polyvisor adds, no balloon,
  \`<serial type='file'>\`); after each round \`virsh destroy\`.
${r.rawNotes.map((n) => `- Note on B: ${n}.\n`).join('')}
### How libvirt was run

${r.libvirtSetup.map((l) => `- ${l}`).join('\n')}

### Machine

- ${m.nproc} CPUs (${m.cpu}), ${m.memoryGiB} GiB RAM, ${m.kernel}
- ${m.qemu}
- ${m.libvirt}
- Node.js ${m.node}
- Load average (1/5/15 min) before: ${m.load}; after: ${r.loadAfter}. ${r.quiet} Other work
  on the machine during the run adds noise to every method alike (the rotation spreads it);
  compare methods within one run, and prefer the paired differences.

### Per-round samples (seconds)

${perRound}

<details><summary>B's argv (the daemon's, paths rewritten)</summary>

${fence(r.rawArgv)}

</details>

<details><summary>C's QEMU argv (as libvirt ran it)</summary>

${fence(r.libvirtArgv)}

</details>`;
}
