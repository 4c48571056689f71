/**
 * Disk export benchmark (run by hand: `npx tsx bench/storage-export.ts`, or
 * `bash bench/run.sh storage-export`). A 1 GiB qcow2 holding 384 MiB of
 * random data is exported to every format A) by Polyvisor's exportImages
 * (convert + qemu-img check + qemu-img compare + SHA-256) and B) by a plain
 * `qemu-img convert` with the same options, alternating, in the same run.
 * Writes the "storage" section of docs/benchmarks.md.
 *
 * With BENCH_BEFORE_SRC=/path/to/an/older/checkout, that checkout's
 * exportImages runs too (A0, before), in the same rotation.
 *
 * BENCH_DISK_GIB (a comma list, default "1") adds larger disks (N GiB holding
 * N × 384 MiB), exported to BENCH_BIG_FORMATS (default qcow2,raw,vpc).
 *
 * Env: BENCH_ROUNDS (default 3), BENCH_DISK_GIB, BENCH_BIG_FORMATS, BENCH_DIR (scratch directory, default /var/tmp), BENCH_BEFORE_SRC.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { runChecked } from '../src/shared/index.js';
import { DISK_FORMATS, FORMAT_TRAITS, exportImages, type DiskFormat } from '../src/storage/index.js';
import { describeMachine } from './lib/machine.js';
import { table, writeSection } from './lib/report.js';
import { summarize } from './lib/stats.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const DATA = 384 * MiB;
const SIZES = (process.env['BENCH_DISK_GIB'] ?? '1').split(',').map(Number);
const BIG_FORMATS = (process.env['BENCH_BIG_FORMATS'] ?? 'qcow2,raw,vpc').split(',');
const log = (s: string): void => void process.stderr.write(`[storage-export] ${s}\n`);
const BEFORE = process.env['BENCH_BEFORE_SRC'];
const exportBefore = BEFORE ? ((await import(path.join(BEFORE, 'src', 'storage', 'index.js'))) as { exportImages: typeof exportImages }).exportImages : undefined;

/** One disk size: the source made, then every format exported A, B (and A0) in rotation; one table row per format. */
async function runSize(dir: string, gib: number, formats: string[]): Promise<string[][]> {
  const data = DATA * gib;
  const raw = path.join(dir, 'src.raw');
  const fd = openSync(raw, 'w');
  const chunk = randomBytes(MiB);
  const stride = Math.floor(GiB / (DATA / MiB) / MiB) * MiB; // 384 one-MiB extents spread over each GiB
  for (let i = 0; i < data / MiB; i++) {
    chunk.writeUInt32LE(i, 0);
    writeSync(fd, chunk, 0, MiB, i * stride);
  }
  ftruncateSync(fd, gib * GiB);
  closeSync(fd);
  const src = path.join(dir, 'src.qcow2');
  await runChecked('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, src], { timeoutMs: 600_000, failCode: 'INTERNAL' });
  rmSync(raw);
  const a: Record<string, number[]> = {};
  const aConvert: Record<string, number[]> = {};
  const b: Record<string, number[]> = {};
  const a0: Record<string, number[]> = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const f of formats) {
      const order = [...(r % 2 === 0 ? ['A', 'B'] : ['B', 'A']), ...(exportBefore ? ['A0'] : [])];
      if (exportBefore && r % 2 === 1) order.reverse();
      for (const m of order) {
        const out = path.join(dir, `out-${m}-${f}`);
        rmSync(out, { recursive: true, force: true });
        const t0 = performance.now();
        if (m === 'A0') {
          await exportBefore!([{ baseName: 'disk', path: src, format: 'qcow2' }], [f as DiskFormat], out);
          (a0[f] ??= []).push(performance.now() - t0);
        } else if (m === 'A') {
          const res = await exportImages([{ baseName: 'disk', path: src, format: 'qcow2' }], [f as DiskFormat], out);
          (a[f] ??= []).push(performance.now() - t0);
          (aConvert[f] ??= []).push(res.files[0]!.seconds * 1000);
        } else {
          const t = FORMAT_TRAITS[f as DiskFormat];
          mkdirSync(out);
          const t1 = performance.now();
          await runChecked('qemu-img', ['convert', '-f', 'qcow2', '-O', t.qemu, ...(t.options.length ? ['-o', t.options.join(',')] : []), src, path.join(out, `disk${t.suffix}`)], { timeoutMs: 1_800_000, failCode: 'INTERNAL' });
          (b[f] ??= []).push(performance.now() - t1);
        }
        rmSync(out, { recursive: true, force: true });
      }
      log(`${gib} GiB round ${r + 1}/${ROUNDS} ${f}: A ${(a[f]!.at(-1)! / 1000).toFixed(2)} s (convert ${(aConvert[f]!.at(-1)! / 1000).toFixed(2)} s), B ${(b[f]!.at(-1)! / 1000).toFixed(2)} s`);
    }
  }
  rmSync(src);
  return formats.map((f) => {
    const A = summarize(a[f]!).median;
    const Ac = summarize(aConvert[f]!).median;
    const B = summarize(b[f]!).median;
    const mbs = (ms: number) => (data / MiB / (ms / 1000)).toFixed(0);
    const A0 = a0[f] ? summarize(a0[f]).median : undefined;
    const before = A0 === undefined ? [] : [(A0 / 1000).toFixed(2), (A0 / B).toFixed(2)];
    return [`${gib} GiB`, f, (B / 1000).toFixed(2), mbs(B), (Ac / 1000).toFixed(2), (A / 1000).toFixed(2), mbs(A), (Ac / B).toFixed(2), (A / B).toFixed(2), ...before];
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(process.env['BENCH_DIR'] ?? '/var/tmp', 'pv-bench-export-'));
  try {
    const rows: string[][] = [];
    for (const gib of SIZES) rows.push(...(await runSize(dir, gib, gib === 1 ? [...DISK_FORMATS] : BIG_FORMATS)));
    const head = ['disk', 'format', 'B: qemu-img convert (s)', 'B data MiB/s', 'A: convert step (s)', 'A: whole export (s)', 'A data MiB/s', 'A convert / B', 'A whole / B', ...(exportBefore ? ['A0 (before): whole export (s)', 'A0 whole / B'] : [])];
    const m = await describeMachine('qemu-img');
    const machine = `${m.nproc} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.qemu}, Node ${m.node}, load ${m.load}`;
    const body = `## Disk export: Polyvisor vs plain qemu-img convert

Measured ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} by \`BENCH_DISK_GIB=${SIZES.join(',')} npx tsx bench/storage-export.ts\`, ${ROUNDS} rounds (medians), on ${machine}.
Source: a qcow2 of N GiB holding N × 384 MiB of random (incompressible) data in one-MiB extents spread over the disk; every format at 1 GiB, ${BIG_FORMATS.join(', ')} on the larger disks.
A is \`exportImages\` (what \`polyvisor disk export\` runs): convert, \`qemu-img check\` (where the format has one), \`qemu-img compare\` with the source, SHA-256, move into place.
B is a plain \`qemu-img convert\` with the same output options, alternating with A. Throughput counts the data.${exportBefore ? '\nA0 is the exportImages of an earlier commit (BENCH_BEFORE_SRC), in the same rotation.' : ''}

${table(head, rows)}

"A convert / B" is the conversion itself (the same qemu-img command, started through Polyvisor's spawn layer with \`-p\` progress); "A whole / B" adds the verification Polyvisor does that a bare convert does not (check, compare, hash), which reads the output once or twice more.`;
    console.log(body);
    writeSection(path.resolve(import.meta.dirname, '..', 'docs', 'benchmarks.md'), 'storage', body);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
