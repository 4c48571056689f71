/**
 * Backup benchmark (run by hand: `npx tsx bench/backup.ts`, or `bash
 * bench/run.sh backup`). A running test guest has a qcow2 disk of N GiB
 * (BENCH_DISK_GIB, a comma list: default "1"; "1,8" measures both in one run)
 * holding N × 384 MiB of random data. Each round, in rotating order: A) a full
 * backup (`backup create --full`, blockdev-backup), B) the guest overwrites
 * N × 64 MiB (6.25% of the disk) with random data and an incremental backup
 * follows, C) a plain `qemu-img
 * convert -U -O qcow2` of the same disk. Time (wall, through the API) and
 * bytes written. Then, on the same running VM, snapshot timings: a
 * disk-only internal snapshot (create, delete) against an external one
 * (overlay create; delete = block-stream of the 384 MiB base into the
 * active overlay). Writes the "backup" section of docs/benchmarks.md.
 *
 * Floors measured in the same run: `qemu-img convert -U` of the disk (full
 * backup), writing 64 MiB and fsyncing it (incremental), and the internal
 * snapshot's create/delete (external delete).
 * With BENCH_BEFORE_DAEMON=/path/to/old/bin/polyvisord.js (a build of an
 * earlier commit) everything is measured on that daemon first, on a fresh
 * copy of the same disk, and the table shows before beside after.
 *
 * Env: BENCH_ROUNDS (default 3), BENCH_DISK_GIB (default 1), BENCH_DIR (scratch, default /var/tmp), POLYVISOR_TEST_GUEST, BENCH_BEFORE_DAEMON.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, fsyncSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { BackupClient, PolyvisorClient, SnapshotClient } from '../src/client/index.js';
import { runChecked } from '../src/shared/index.js';
import { guestShell } from '../test/helpers/shell.js';
import { loadGuest } from './lib/guest.js';
import { describeMachine } from './lib/machine.js';
import { startDaemon, stopDaemon } from './lib/polyvisor.js';
import { qemusMentioning, sleep, stopPid } from './lib/proc.js';
import { table, writeSection } from './lib/report.js';
import { summarize } from './lib/stats.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const SIZES = (process.env['BENCH_DISK_GIB'] ?? '1').split(',').map(Number);
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const VM = 'bkbench';
const log = (s: string): void => void process.stderr.write(`[backup] ${s}\n`);

async function makeDisk(file: string, gib: number): Promise<void> {
  const raw = `${file}.raw`;
  const fd = openSync(raw, 'w');
  const chunk = randomBytes(MiB);
  for (let i = 0; i < 384 * gib; i++) writeSync(fd, chunk.fill(i & 0xff, 0, 8), 0, MiB, i * (GiB / 512)); // 384 MiB per GiB, one MiB in every two
  ftruncateSync(fd, gib * GiB);
  closeSync(fd);
  await runChecked('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, file], { timeoutMs: 600_000, failCode: 'INTERNAL' });
  rmSync(raw);
}

type Timings = Record<'full' | 'incremental' | 'convert' | 'write64', { ms: number[]; bytes: number[] }> & { snap: Record<'intCreate' | 'intDelete' | 'extCreate' | 'extDelete', number[]> };

/** Writes `mib` MiB of random data to a new file and fsyncs it: the floor of an incremental that copies as much. */
function writeChanged(file: string, mib: number): number {
  const buf = randomBytes(64 * MiB);
  const t0 = performance.now();
  const fd = openSync(file, 'w');
  for (let i = 0; i < mib / 64; i++) writeSync(fd, buf);
  fsyncSync(fd);
  closeSync(fd);
  const ms = performance.now() - t0;
  rmSync(file);
  return ms;
}

async function measure(pristine: string, daemonJs: string | undefined, gib: number): Promise<Timings> {
  const dir = mkdtempSync(path.join(process.env['BENCH_DIR'] ?? '/var/tmp', 'pv-bench-backup-'));
  const stateDir = path.join(dir, 'state');
  const disk = path.join(dir, 'disk.qcow2');
  copyFileSync(pristine, disk);
  mkdirSync(stateDir, { recursive: true });
  const d = await startDaemon(stateDir, daemonJs ? { daemonJs } : {});
  try {
    const client = new PolyvisorClient({ endpoint: { socketPath: d.socket } });
    const b = new BackupClient({ endpoint: { socketPath: d.socket } });
    const g = loadGuest();
    await client.createVm({ name: VM, memory: '256Mi', boot: { kernel: g.kernel, initrd: g.initrd, cmdline: g.cmdline }, disks: [{ name: 'data', path: disk, format: 'qcow2' }] });
    await client.action(VM, 'start');
    for (let i = 0; (await client.serialLog(VM)).includes(g.readyLine) === false; i++) {
      if (i > 3000) throw new Error('guest did not become ready in 300 s');
      await sleep(100);
    }
    await b.create(VM, { full: true }); // warm-up, starts the bitmap
    const res: Omit<Timings, 'snap'> = {
      full: { ms: [], bytes: [] }, incremental: { ms: [], bytes: [] }, convert: { ms: [], bytes: [] }, write64: { ms: [], bytes: [] },
    };
    const bytesOf = (r: { disks: Array<{ sizeBytes: number }> }) => r.disks.reduce((n, x) => n + x.sizeBytes, 0);
    const steps = {
      full: async () => {
        const t0 = performance.now();
        const r = await b.create(VM, { full: true });
        res.full.ms.push(performance.now() - t0);
        res.full.bytes.push(bytesOf(r));
      },
      incremental: async (round: number) => {
        await guestShell(client, VM, `dd if=/dev/urandom of=/dev/vda bs=1M count=${64 * gib} seek=${(round * 128 * gib) % (896 * gib)} conv=fsync 2>/dev/null; sync`, 600_000);
        const t0 = performance.now();
        const r = await b.create(VM);
        if (r.kind !== 'incremental') throw new Error(`expected an incremental backup, got ${r.kind}: ${r.fullReason}`);
        res.incremental.ms.push(performance.now() - t0);
        res.incremental.bytes.push(bytesOf(r));
      },
      convert: async () => {
        const out = path.join(dir, 'plain.qcow2');
        rmSync(out, { force: true });
        const t0 = performance.now();
        await runChecked('qemu-img', ['convert', '-U', '-f', 'qcow2', '-O', 'qcow2', disk, out], { timeoutMs: 600_000, failCode: 'INTERNAL' });
        res.convert.ms.push(performance.now() - t0);
        res.convert.bytes.push(statSync(out).size);
        res.write64.ms.push(writeChanged(path.join(dir, 'w64'), 64 * gib));
        res.write64.bytes.push(64 * gib * MiB);
      },
    };
    const orders: Array<Array<keyof typeof steps>> = [['full', 'incremental', 'convert'], ['convert', 'full', 'incremental'], ['full', 'convert', 'incremental']];
    for (let r = 0; r < ROUNDS; r++) {
      for (const s of orders[r % orders.length]!) await steps[s](r);
      await b.prune(VM, { keepLast: 1 });
      log(`round ${r + 1}/${ROUNDS} done`);
    }
    const s = new SnapshotClient({ endpoint: { socketPath: d.socket } });
    const snap: Record<'intCreate' | 'intDelete' | 'extCreate' | 'extDelete', number[]> = { intCreate: [], intDelete: [], extCreate: [], extDelete: [] };
    const timed = async (k: keyof typeof snap, f: () => Promise<unknown>) => {
      const t0 = performance.now();
      await f();
      snap[k].push(performance.now() - t0);
    };
    for (let r = 0; r < ROUNDS; r++) {
      const internal = async () => {
        await timed('intCreate', () => s.create(VM, { name: `i${r}`, ram: false }));
        await timed('intDelete', () => s.remove(VM, `i${r}`));
      };
      const external = async () => {
        await timed('extCreate', () => s.create(VM, { name: `e${r}`, type: 'external' }));
        await timed('extDelete', () => s.remove(VM, `e${r}`));
      };
      for (const f of r % 2 === 0 ? [internal, external] : [external, internal]) await f();
    }
    return { ...res, snap };
  } finally {
    await stopDaemon(d).catch(() => undefined);
    for (const pid of qemusMentioning(stateDir)) await stopPid(pid);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const runs: Array<{ gib: number; before?: Timings; after: Timings }> = [];
  for (const gib of SIZES) {
    const scratch = mkdtempSync(path.join(process.env['BENCH_DIR'] ?? '/var/tmp', 'pv-bench-backup-src-'));
    try {
      const pristine = path.join(scratch, 'disk.qcow2');
      log(`${gib} GiB: making the disk`);
      await makeDisk(pristine, gib);
      const before = process.env['BENCH_BEFORE_DAEMON'] ? await measure(pristine, process.env['BENCH_BEFORE_DAEMON'], gib) : undefined;
      const after = await measure(pristine, undefined, gib);
      runs.push({ gib, ...(before ? { before } : {}), after });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  await report(runs);
}

const med = (xs: number[]): number => summarize(xs).median;

async function report(runs: Array<{ gib: number; before?: Timings; after: Timings }>): Promise<void> {
  const m = await describeMachine('qemu-system-x86_64');
  const machine = `${m.nproc} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.qemu}, Node ${m.node}, load ${m.load}`;
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  const hasBefore = runs.some((r) => r.before);
  const rows: string[][] = [];
  const snapRows: string[][] = [];
  const shares: string[] = [];
  for (const { gib, before, after } of runs) {
    const disk = `${gib} GiB (${384 * gib} MiB data)`;
    const row = (what: string, k: 'full' | 'incremental', floorName: string, floor: (t: Timings) => number) => {
      for (const [label, t] of [...(before ? [['before', before] as const] : []), [hasBefore ? 'after' : '', after] as const]) {
        rows.push([disk, what, label, s(med(t[k].ms)), `${(med(t[k].bytes) / MiB).toFixed(1)} MiB`, `${floorName} ${s(floor(t))}`, x(med(t[k].ms), floor(t))]);
      }
    };
    row('full backup of the running VM', 'full', 'qemu-img convert -U', (t) => med(t.convert.ms));
    row(`incremental after ${64 * gib} MiB changed`, 'incremental', `write+fsync of ${64 * gib} MiB`, (t) => med(t.write64.ms));
    const incOfFull = (t: Timings) => `${((med(t.incremental.ms) / med(t.full.ms)) * 100).toFixed(0)}%`;
    shares.push(`${gib} GiB: ${before ? `before ${incOfFull(before)}, after ` : ''}${incOfFull(after)}`);
    for (const [label, t] of [...(before ? [['before', before] as const] : []), [hasBefore ? 'after' : '', after] as const]) {
      const ms = (k: keyof Timings['snap']) => med(t.snap[k]);
      snapRows.push([disk, label, `${ms('intCreate').toFixed(0)} ms`, `${ms('intDelete').toFixed(0)} ms`, `${ms('extCreate').toFixed(0)} ms`, `${ms('extDelete').toFixed(0)} ms`, x(ms('extDelete'), ms('intDelete')), x(ms('extDelete'), ms('extCreate'))]);
    }
  }
  const body = `## Backups and snapshots: incremental vs full vs qemu-img convert

Measured ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} by \`BENCH_DISK_GIB=${SIZES.join(',')} npx tsx bench/backup.ts\`, ${ROUNDS} rounds (medians), on ${machine}.
A running TCG test guest with a qcow2 disk of N GiB holding N × 384 MiB of random data; before each incremental the guest overwrites N × 64 MiB (6.25% of the disk) with random data.
Backup times are wall time of the API call (target creation, blockdev-backup, SHA-256 of the result, catalogue write). Each floor is measured in the same run, on the same daemon's round${hasBefore ? '; "before" is the daemon of an earlier commit (BENCH_BEFORE_DAEMON), measured first on a fresh copy of the same disk' : ''}.

${table(['disk', 'what', 'daemon', 'time', 'bytes written', 'floor, same run', 'ratio to floor'], rows)}

Incremental as a share of the full backup: ${shares.join('; ')}.

Disk-only snapshots of the same running VM (fsfreeze through the guest agent included), same run. An internal delete only drops refcounts; an external delete merges: before issue 28 by block-stream of the whole base into the overlay, now by active commit of the (small) overlay into the base:

${table(['disk', 'daemon', 'internal create', 'internal delete', 'external create', 'external delete', 'external delete / internal delete', 'external delete / external create'], snapRows)}
`;
  writeSection(path.resolve(import.meta.dirname, '..', 'docs', 'benchmarks.md'), 'backup', body);
  process.stdout.write(body);
}

await main();
