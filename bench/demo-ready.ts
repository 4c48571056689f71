/**
 * Demo ready time (run by hand: `bash bench/run.sh demo-ready`): how long `bash scripts/demo.sh`
 * takes from its start to its banner, in three cases measured in the same rounds:
 *   first   a first run: fresh state directory, build stamp removed (setup.sh rebuilds dist/)
 *   again   the same demo run again with nothing changed (the demo VM kept running, setup builds nothing)
 *   fresh   a fresh state directory with nothing changed (no build; the demo VM is created and started)
 * Each run is stopped like a user would (SIGTERM to the script, as Ctrl-C; the VM keeps running);
 * at the end every demo VM is killed by PID. Prints a table and writes the "demo-ready" section of
 * docs/benchmarks.md. The demo runs in a copy of this checkout's HEAD (`git archive`, node_modules
 * linked), so that edits going on in the checkout neither trigger builds nor get built.
 *
 * Env: BENCH_ROUNDS (default 3).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadNow } from './lib/machine.js';
import { ROOT } from './lib/polyvisor.js';
import { qemusMentioning, runOk, stopPid } from './lib/proc.js';
import { table, writeSection } from './lib/report.js';
import { summarize } from './lib/stats.js';
import { freePort } from '../test/helpers/http.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const log = (s: string): void => void process.stderr.write(`[demo-ready] ${s}\n`);
const s2 = (ms: number): string => (ms / 1000).toFixed(2);

type Case = 'first' | 'again' | 'fresh';
interface Run { totalMs: number; setupMs: number; built: boolean }

/** One demo run up to its banner, then SIGTERM (Ctrl-C): its time to the banner and to the end of setup. */
async function demoRun(tree: string, stateDir: string): Promise<Run> {
  const t0 = performance.now();
  const p = spawn('bash', [path.join(tree, 'scripts', 'demo.sh')], {
    cwd: tree, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, POLYVISOR_STATE_DIR: stateDir, POLYVISOR_LISTEN: `127.0.0.1:${await freePort()}`, POLYVISOR_DEMO_WEB_PORT: String(await freePort()) },
  });
  let out = '';
  let setupMs = 0;
  const exited = new Promise<number | null>((r) => p.once('exit', r));
  return new Promise<Run>((resolve, reject) => {
    const onData = (c: Buffer) => {
      out += c.toString();
      if (!setupMs && out.includes('[demo] starting polyvisord')) setupMs = performance.now() - t0;
      if (/\n {2}Stop: .*\n/.test(out)) {
        const totalMs = performance.now() - t0;
        p.kill('SIGTERM');
        void exited.then(() => resolve({ totalMs, setupMs, built: out.includes('[setup] building TypeScript') }));
      }
    };
    p.stdout.on('data', onData);
    p.stderr.on('data', onData);
    void exited.then((code) => {
      if (!/\n {2}Stop: /.test(out)) reject(new Error(`demo.sh exited ${code} before its banner:\n${out}`));
    });
  });
}

async function main(): Promise<void> {
  const lockHash = createHash('sha256').update(readFileSync(path.join(ROOT, 'package-lock.json'))).digest('hex').slice(0, 16);
  const installed = path.join(ROOT, 'node_modules', '.polyvisor-lock');
  if (!existsSync(installed) || readFileSync(installed, 'utf8').trim() !== lockHash) {
    throw new Error('scripts/setup.sh would run `npm ci` (package-lock.json changed): run it once first; this benchmark measures the build, not npm');
  }
  const loadBefore = loadNow();
  const root = mkdtempSync(path.join(os.tmpdir(), 'pv-demo-ready-'));
  const tree = path.join(root, 'tree');
  mkdirSync(tree);
  const commit = (await runOk('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'])).trim();
  await runOk('bash', ['-c', 'git -C "$1" archive HEAD | tar -x -C "$2"', 'archive', ROOT, tree]);
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(tree, 'node_modules'));
  log(`HEAD ${commit} copied to ${tree}`);
  const runs: Record<Case, Run[]> = { first: [], again: [], fresh: [] };
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const a = path.join(root, `a${i}`);
      rmSync(path.join(tree, 'dist', '.build-inputs'), { force: true });
      runs.first.push(await demoRun(tree, a));
      runs.again.push(await demoRun(tree, a));
      runs.fresh.push(await demoRun(tree, path.join(root, `b${i}`)));
      log(`round ${i + 1}/${ROUNDS}: first ${s2(runs.first.at(-1)!.totalMs)} s, again ${s2(runs.again.at(-1)!.totalMs)} s, fresh state ${s2(runs.fresh.at(-1)!.totalMs)} s`);
    }
  } finally {
    for (const pid of qemusMentioning(root)) await stopPid(pid, 'SIGKILL').catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
  const loadAfter = loadNow();
  const first = summarize(runs.first.map((r) => r.totalMs)).median;
  const label: Record<Case, string> = {
    first: 'first run: fresh state dir, build stamp removed (rebuilds dist/)',
    again: 'second run, nothing changed (same state dir, demo VM still running)',
    fresh: 'second run, nothing changed, fresh state dir (creates and starts the VM)',
  };
  const rows = (Object.keys(runs) as Case[]).map((c) => {
    const total = summarize(runs[c].map((r) => r.totalMs));
    const setup = summarize(runs[c].map((r) => r.setupMs));
    return [label[c], s2(total.median), s2(total.min), s2(total.max), s2(setup.median), runs[c].every((r) => r.built) ? 'yes' : runs[c].some((r) => r.built) ? 'some' : 'no', (total.median / first).toFixed(3), (first / total.median).toFixed(1)];
  });
  const head = ['case', 'ready median (s)', 'min', 'max', 'of it setup.sh (s)', 'built', '÷ first', 'first ÷ this'];
  console.log(table(head, rows));
  writeSection(path.join(ROOT, 'docs', 'benchmarks.md'), 'demo-ready', `## Demo ready time: first run beside a second run (\`bench/demo-ready.ts\`)

Measured ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} by \`bash bench/run.sh demo-ready\` (commit ${commit}), ${ROUNDS} rounds; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}.
Load average (1/5/15 min) before: ${loadBefore}; after: ${loadAfter}.

Time from starting \`bash scripts/demo.sh\` (in a copy of the commit, \`git archive\`, node_modules linked) to its banner's last line (the daemon up, the demo VM running,
the admin token written), with its own state directory and free ports; "of it setup.sh" is the time until
the demo starts the daemon (packages checked, the build stamp compared or the build run, the test guest's
cache checked). Each round runs the three cases in this order; each run is ended with SIGTERM to the
script (as Ctrl-C: the daemon stops, the demo VM keeps running, as for a user).

${table(head, rows)}

A second run with nothing changed skips \`tsc\`, the CLI bundle and the web UI build: \`scripts/build-if-changed.sh\`
compares a hash of the build inputs (path, modification time and content of src/, web/, the build scripts,
the TypeScript configs and the package files; about 0.1 s) with the stamp \`dist/.build-inputs\` left by the
last successful build.`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
