/**
 * OVA benchmark (run by hand: `npx tsx bench/interchange.ts`, or `bash
 * bench/run.sh interchange`). A VM with a 2 GiB qcow2 disk holding 512 MiB of
 * random data (BENCH_DISK_GIB, BENCH_DATA_MIB) on a real daemon:
 *   export: A) `polyvisor export VM --format ova --out DIR` (convert to
 *           streamOptimized VMDK, SHA-256 manifest, tar in VMware's order,
 *           SHA256SUMS) beside B) `qemu-img convert -O vmdk -o
 *           subformat=streamOptimized` of the same disk plus `tar -cf` of
 *           it with a descriptor;
 *   import: A) `polyvisor import X.ova` (safe tar listing, descriptor and
 *           manifest checked, the disk read in place from the OVA by qemu-img
 *           and hashed for the manifest while it converts to qcow2, fsync, VM
 *           record) beside B) `tar -xf` plus `qemu-img convert -O qcow2`.
 * A and B alternate in each round, in the same run; the ratio B/A is A's
 * throughput relative to B's (the goal: at least 0.9). Writes the
 * "interchange" section of docs/benchmarks.md.
 *
 * Env: BENCH_ROUNDS (default 3), BENCH_DIR (scratch, default /var/tmp),
 * BENCH_DISK_GIB (default 2), BENCH_DATA_MIB (default 512).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { runChecked } from '../src/shared/index.js';
import { describeMachine } from './lib/machine.js';
import { cliOk, startDaemon, stopDaemon } from './lib/polyvisor.js';
import { table, writeSection } from './lib/report.js';
import { summarize } from './lib/stats.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const DISK = Number(process.env['BENCH_DISK_GIB'] ?? 2) * GiB;
const DATA = Number(process.env['BENCH_DATA_MIB'] ?? 512) * MiB;
const log = (s: string): void => void process.stderr.write(`[interchange] ${s}\n`);
const run = (cmd: string, args: string[]): Promise<unknown> => runChecked(cmd, args, { timeoutMs: 1_800_000, failCode: 'INTERNAL' });

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(process.env['BENCH_DIR'] ?? '/var/tmp', 'pv-bench-ova-'));
  const state = path.join(dir, 'state');
  mkdirSync(state);
  const d = await startDaemon(state, { env: { TMPDIR: dir } });
  try {
    // The source disk: DATA of random 1 MiB extents spread over DISK.
    const raw = path.join(dir, 'src.raw');
    const fd = openSync(raw, 'w');
    const chunk = randomBytes(MiB);
    const stride = Math.floor(DISK / (DATA / MiB) / MiB) * MiB;
    for (let i = 0; i < DATA / MiB; i++) {
      chunk.writeUInt32LE(i, 0);
      writeSync(fd, chunk, 0, MiB, i * stride);
    }
    ftruncateSync(fd, DISK);
    closeSync(fd);
    const src = path.join(dir, 'src.qcow2');
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, src]);
    rmSync(raw);
    writeFileSync(path.join(dir, 'web.conf'), `name: web\nmachine: q35\nmemory: 256\nscsihw: pvscsi\nscsi0: local:100/src.qcow2,size=${DISK / MiB}M\n`);
    await cliOk(d, 'import', path.join(dir, 'web.conf'), '--no-progress');
    const vmDisk = readdirSync(path.join(state, 'vms')).filter((n) => !n.startsWith('.')).map((id) => path.join(state, 'vms', id, 'disks', 'scsi0.qcow2'))[0]!;

    const t: Record<'aExport' | 'bExport' | 'aImport' | 'bImport', number[]> = { aExport: [], bExport: [], aImport: [], bImport: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const aOut = path.join(dir, `a-${r}`);
      const bOut = path.join(dir, `b-${r}`);
      const order = r % 2 === 0 ? ['A', 'B'] : ['B', 'A'];
      for (const m of order) {
        if (m === 'A') {
          t.aExport.push(await timed(() => cliOk(d, 'export', 'web', '--format', 'ova', '--out', aOut, '--no-progress', '--json')));
        } else {
          mkdirSync(bOut);
          t.bExport.push(await timed(async () => {
            await run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'vmdk', '-o', 'subformat=streamOptimized', vmDisk, path.join(bOut, 'web-disk1.vmdk')]);
            writeFileSync(path.join(bOut, 'web.ovf'), '<Envelope/>\n');
            await run('tar', ['-cf', path.join(bOut, 'web.ova'), '-C', bOut, 'web.ovf', 'web-disk1.vmdk']);
          }));
          rmSync(path.join(bOut, 'web-disk1.vmdk'));
          rmSync(path.join(bOut, 'web.ovf'));
        }
      }
      for (const m of order) {
        if (m === 'A') {
          t.aImport.push(await timed(() => cliOk(d, 'import', path.join(aOut, 'web.ova'), '--name', `back-${r}`, '--no-progress', '--json')));
          await cliOk(d, 'vm', 'rm', `back-${r}`);
        } else {
          const x = path.join(bOut, 'x');
          mkdirSync(x);
          t.bImport.push(await timed(async () => {
            await run('tar', ['-xf', path.join(bOut, 'web.ova'), '-C', x]);
            await run('qemu-img', ['convert', '-f', 'vmdk', '-O', 'qcow2', path.join(x, 'web-disk1.vmdk'), path.join(x, 'back.qcow2')]);
          }));
        }
      }
      rmSync(aOut, { recursive: true, force: true });
      rmSync(bOut, { recursive: true, force: true });
      log(`round ${r + 1}/${ROUNDS}: export A ${(t.aExport.at(-1)! / 1000).toFixed(2)} s, B ${(t.bExport.at(-1)! / 1000).toFixed(2)} s; import A ${(t.aImport.at(-1)! / 1000).toFixed(2)} s, B ${(t.bImport.at(-1)! / 1000).toFixed(2)} s`);
    }
    const med = (v: number[]): number => summarize(v).median;
    const mbs = (ms: number): string => (DATA / MiB / (ms / 1000)).toFixed(1);
    // Also the median of each round's own B/A: A and B of one round ran back to back, so a load that comes and goes
    // between rounds (a shared host) moves that ratio less than the ratio of the medians.
    const paired = (a: number[], b: number[]): string => `${med(a.map((x, i) => b[i]! / x)).toFixed(2)} (${a.map((x, i) => (b[i]! / x).toFixed(2)).join(', ')})`;
    const row = (what: string, a: number[], b: number[]): string[] => [what, (med(b) / 1000).toFixed(2), mbs(med(b)), (med(a) / 1000).toFixed(2), mbs(med(a)), (med(b) / med(a)).toFixed(2), paired(a, b)];
    const m = await describeMachine('qemu-img');
    const body = `## OVA export and import (\`bench/interchange.ts\`)

Measured ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} by \`npx tsx bench/interchange.ts\`, ${ROUNDS} rounds (medians), on ${m.nproc} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.qemu}, Node ${m.node}, load ${m.load}.
A VM with a ${DISK / GiB} GiB qcow2 disk holding ${DATA / MiB} MiB of random (incompressible) data in one-MiB extents spread over it, on a real daemon.
Export: A is \`polyvisor export web --format ova\` (convert to streamOptimized VMDK, SHA-256 of descriptor and disk for the .mf, tar in VMware's order with its SHA-256 computed while writing, SHA256SUMS); B is \`qemu-img convert -o subformat=streamOptimized\` of the same disk plus \`tar -cf\`.
Import: A is \`polyvisor import web.ova\` (safe tar listing, descriptor and manifest checked, \`qemu-img info\` and convert to qcow2 reading the disk in place in the OVA while it is hashed for the manifest, fsync, VM record); B is \`tar -xf\` plus \`qemu-img convert -O qcow2\`. A and B alternate. Throughput counts the ${DATA / MiB} MiB of data; "B/A" is A's throughput as a fraction of B's (goal: at least 0.9).

${table(['step', 'B (s)', 'B data MiB/s', 'A: polyvisor (s)', 'A data MiB/s', 'B/A', 'B/A per round: median (each)'], [row('export to OVA', t.aExport, t.bExport), row('import from OVA', t.aImport, t.bImport)])}`;
    console.log(body);
    writeSection(path.resolve(import.meta.dirname, '..', 'docs', 'benchmarks.md'), 'interchange', body);
  } finally {
    await stopDaemon(d);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
