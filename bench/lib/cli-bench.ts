/** bench/cli.ts: timing one command line (spawn to exit) and the markdown section it writes. */
import { existsSync } from 'node:fs';
import { run } from './proc.js';
import { ratio, summarize, type Summary } from './stats.js';
import { table } from './report.js';

export interface Probe {
  /** Row label, e.g. "polyvisor vm show NAME". */
  label: string;
  /** "base" (node -e 0), "floor" (bare Node doing the same request), "virsh", "after" (this checkout), "before" (the old checkout). */
  kind: 'base' | 'floor' | 'virsh' | 'after' | 'before';
  /** Which virsh row this one is compared with (its label), if any. */
  peer?: string;
  cmd: string;
  args: string[];
  /** Exit codes that count as success (an error path may be the thing measured). */
  okCodes: number[];
}

/**
 * A small wrapper that times its child alone: wall time from fork to exit, and the child's CPU time
 * (user + system, from wait4's rusage, microsecond resolution), so the wrapper's own start-up counts
 * in neither. Printed as the last stderr line.
 */
const TIMER = `import os, sys, time
t = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, st, ru = os.wait4(pid, 0)
w = time.perf_counter() - t
sys.stderr.write('\\n@@pvtime %.3f %.3f %d\\n' % (w * 1000, (ru.ru_utime + ru.ru_stime) * 1000, os.waitstatus_to_exitcode(st)))
`;
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export interface Timing {
  wallMs: number;
  cpuMs: number;
}

/** One run of `p`, timed; throws when it exits with a code not in `okCodes`. */
export async function timeOnce(p: Probe): Promise<Timing> {
  const r = await run(PYTHON, ['-c', TIMER, p.cmd, ...p.args], 60_000);
  const m = /\n@@pvtime (\S+) (\S+) (-?\d+)\n$/.exec(r.stderr);
  if (!m) throw new Error(`${p.label}: timer failed (exit ${r.code}): ${r.stderr.trim().slice(-400)}`);
  const code = Number(m[3]);
  if (!p.okCodes.includes(code)) {
    throw new Error(`${p.label}: exit ${code}: ${(r.stderr.slice(0, m.index).trim() || r.stdout.trim()).slice(0, 400)}`);
  }
  return { wallMs: Number(m[1]), cpuMs: Number(m[2]) };
}

/** Runs every probe `rounds` times, rotating the order each round; samples per label. */
export async function measureAll(probes: Probe[], rounds: number, log: (s: string) => void): Promise<Map<string, Timing[]>> {
  const out = new Map<string, Timing[]>(probes.map((p) => [p.label, []]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < probes.length; i++) {
      const p = probes[(i + round) % probes.length]!;
      out.get(p.label)!.push(await timeOnce(p));
    }
    if ((round + 1) % 5 === 0) log(`round ${round + 1}/${rounds}`);
  }
  return out;
}

export interface Row {
  probe: Probe;
  /** Wall time. */
  s: Summary;
  cpu: Summary;
}

export function rowsOf(probes: Probe[], samples: Map<string, Timing[]>): Row[] {
  return probes.map((probe) => {
    const t = samples.get(probe.label)!;
    return { probe, s: summarize(t.map((x) => x.wallMs)), cpu: summarize(t.map((x) => x.cpuMs)) };
  });
}

const ms = (x: number): string => x.toFixed(1);

/**
 * The results table: wall median, min, max, ratio to `node -e 0` and to the matching virsh command,
 * then the CPU time median and its ratio to `node -e 0`'s.
 */
export function resultsTable(rows: Row[]): string {
  const base = rows.find((r) => r.probe.kind === 'base')!;
  const byLabel = new Map(rows.map((r) => [r.probe.label, r]));
  return table(
    ['command', 'wall median (ms)', 'min', 'max', '÷ `node -e 0`', '÷ virsh', 'CPU median (ms)', 'CPU ÷ `node -e 0`'],
    rows.map((r) => {
      const peer = r.probe.peer ? byLabel.get(r.probe.peer) : undefined;
      return [r.probe.label, ms(r.s.median), ms(r.s.min), ms(r.s.max), ratio(r.s.median, base.s.median),
        peer ? `${ratio(r.s.median, peer.s.median)} (${peer.probe.label.replace(/^virsh /, '')})` : '-',
        ms(r.cpu.median), ratio(r.cpu.median, base.cpu.median)];
    }),
  );
}

/**
 * Verdict lines for the "after" rows against the 1.3× goal, judged on CPU time: on a busy machine
 * every process also waits for a CPU, which inflates `node -e 0`'s wall time as much as the CLI's
 * and squeezes the wall ratios towards 1; on an idle machine the two agree for these short runs.
 */
export function verdicts(rows: Row[], goal: number): string[] {
  const base = rows.find((r) => r.probe.kind === 'base')!.s.median;
  const cpuBase = rows.find((r) => r.probe.kind === 'base')!.cpu.median;
  return rows.filter((r) => r.probe.kind === 'after').map((r) => {
    const x = r.s.median / base;
    const c = r.cpu.median / cpuBase;
    return `- ${r.probe.label}: CPU time ${c.toFixed(2)}× \`node -e 0\` — ${c <= goal ? 'MET' : 'NOT MET'} (goal ≤ ${goal}×); wall ${x.toFixed(2)}×`;
  });
}
