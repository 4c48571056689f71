/**
 * `polyvisor up` of a 10-VM stack with a two-level dependency graph (run by
 * hand: `npx tsx bench/stack-up.ts` after `npm run build`): 2 "base" VMs,
 * then 8 that depend on them, every VM the test guest under TCG and ready
 * when its guest agent answers. The same stack is applied by one real
 * daemon (through the real CLI) with `concurrency: 10` (independent members
 * at once) and with `concurrency: 1` (one object at a time), destroyed
 * between runs, BENCH_ROUNDS times (default 1) alternating which goes first.
 * Prints each wall time and the ratio one-at-a-time / parallel.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadGuest } from './lib/guest.js';
import { ROOT, startDaemon, stopDaemon, type Daemon } from './lib/polyvisor.js';
import { qemusMentioning, run, stopPid, type RunResult } from './lib/proc.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 1);
const guest = loadGuest();
/** The real CLI, with room for ten TCG boots on a busy host (bench/lib's cli() stops at 120 s). */
const cli = (d: Daemon, ...args: string[]): Promise<RunResult> => run(process.execPath, [path.join(ROOT, 'bin', 'polyvisor.js'), '--socket', d.socket, ...args], 1_800_000);

function stackFile(dir: string, concurrency: number): string {
  const spec = (member: string) => ({
    memory: '96Mi',
    boot: { kernel: guest.kernel, initrd: guest.initrd, cmdline: `${guest.cmdline} pv.name=${member}` },
  });
  const ready = { agent: true, timeout: 900, interval: 1 };
  const doc = {
    name: 'bench',
    concurrency,
    vms: {
      base: { count: 2, name: 'base-{n}', spec: spec('base'), ready },
      node: { count: 8, name: 'node-{n}', spec: spec('node'), depends_on: ['base'], ready },
    },
  };
  const file = path.join(dir, `stack-c${concurrency}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

async function upSeconds(d: Daemon, file: string): Promise<number> {
  const t0 = performance.now();
  const r = await cli(d, 'up', file, '--yes');
  const s = (performance.now() - t0) / 1000;
  if (r.code !== 0) throw new Error(`up failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return s;
}

async function destroy(d: Daemon): Promise<void> {
  const r = await cli(d, 'stack', 'destroy', 'bench', '--yes');
  if (r.code !== 0) throw new Error(`destroy failed:\n${r.stdout}\n${r.stderr}`);
}

const dir = mkdtempSync('/tmp/pv-bench-stack-up-');
const d = await startDaemon(dir);
const times: Record<'parallel' | 'serial', number[]> = { parallel: [], serial: [] };
try {
  const files = { parallel: stackFile(dir, 10), serial: stackFile(dir, 1) };
  for (let r = 0; r < ROUNDS; r++) {
    const kinds: Array<'parallel' | 'serial'> = r % 2 === 0 ? ['parallel', 'serial'] : ['serial', 'parallel'];
    for (const kind of kinds) {
      const s = await upSeconds(d, files[kind]);
      times[kind].push(s);
      process.stdout.write(`round ${r + 1}: ${kind} up of 10 VMs (2 levels) ${s.toFixed(1)} s\n`);
      await destroy(d);
    }
  }
} finally {
  await stopDaemon(d).catch(() => undefined);
  for (const pid of qemusMentioning(dir)) await stopPid(pid);
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const par = median(times.parallel);
const ser = median(times.serial);
process.stdout.write([
  `stack up, 10 VMs (2 base, 8 depending on them), test guest under TCG, ready = guest agent answers; ${ROUNDS} round(s), load ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`,
  `  parallel (concurrency 10)   median ${par.toFixed(1)} s (${times.parallel.map((x) => x.toFixed(1)).join(', ')})`,
  `  one at a time (concurrency 1) median ${ser.toFixed(1)} s (${times.serial.map((x) => x.toFixed(1)).join(', ')})`,
  `  ratio one-at-a-time / parallel: ${(ser / par).toFixed(2)}`,
  '',
].join('\n'));
