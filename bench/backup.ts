/**
 * Backup benchmark (run by hand: `npx tsx bench/backup.ts`, or `bash
 * bench/run.sh backup`). A running test guest has a 1 GiB qcow2 disk holding
 * 384 MiB of random data. Each round, in rotating order: A) a full backup
 * (`backup create --full`, blockdev-backup), B) the guest overwrites 64 MiB
 * with random data and an incremental backup follows, C) a plain `qemu-img
 * convert -U -O qcow2` of the same disk. Time (wall, through the API) and
 * bytes written. Then, on the same running VM, snapshot timings: a
 * disk-only internal snapshot (create, delete) against an external one
 * (overlay create; delete = block-stream of the 384 MiB base into the
 * active overlay). Writes the "backup" section of docs/benchmarks.md.
 *
 * Env: BENCH_ROUNDS (default 3), BENCH_DIR (scratch, default /var/tmp), POLYVISOR_TEST_GUEST.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
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
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const VM = 'bkbench';
const log = (s: string): void => void process.stderr.write(`[backup] ${s}\n`);

async function makeDisk(file: string): Promise<void> {
  const raw = `${file}.raw`;
  const fd = openSync(raw, 'w');
  const chunk = randomBytes(MiB);
  for (let i = 0; i < 384; i++) writeSync(fd, chunk.fill(i & 0xff, 0, 8), 0, MiB, i * (GiB / 512)); // 384 MiB spread over 1 GiB
  ftruncateSync(fd, GiB);
  closeSync(fd);
  await runChecked('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, file], { timeoutMs: 600_000, failCode: 'INTERNAL' });
  rmSync(raw);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(process.env['BENCH_DIR'] ?? '/var/tmp', 'pv-bench-backup-'));
  const stateDir = path.join(dir, 'state');
  const disk = path.join(dir, 'disk.qcow2');
  await makeDisk(disk);
  mkdirSync(stateDir, { recursive: true });
  const d = await startDaemon(stateDir);
  try {
    const client = new PolyvisorClient({ endpoint: { socketPath: d.socket } });
    const b = new BackupClient({ endpoint: { socketPath: d.socket } });
    const g = loadGuest();
    await client.createVm({ name: VM, memory: '256Mi', boot: { kernel: g.kernel, initrd: g.initrd, cmdline: g.cmdline }, disks: [{ name: 'data', path: disk, format: 'qcow2' }] });
    await client.action(VM, 'start');
    for (let i = 0; (await client.serialLog(VM)).includes(g.readyLine) === false; i++) {
      if (i > 600) throw new Error('guest did not become ready');
      await sleep(100);
    }
    await b.create(VM, { full: true }); // warm-up, starts the bitmap
    const res: Record<'full' | 'incremental' | 'convert', { ms: number[]; bytes: number[] }> = {
      full: { ms: [], bytes: [] }, incremental: { ms: [], bytes: [] }, convert: { ms: [], bytes: [] },
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
        await guestShell(client, VM, `dd if=/dev/urandom of=/dev/vda bs=1M count=64 seek=${(round * 128) % 896} conv=fsync 2>/dev/null; sync`, 300_000);
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
    const ms = (k: keyof typeof snap) => `${summarize(snap[k]).median.toFixed(0)} ms`;
    const ratio = (a: keyof typeof snap, b: keyof typeof snap) => `×${(summarize(snap[a]).median / summarize(snap[b]).median).toFixed(2)}`;
    const m = await describeMachine('qemu-system-x86_64');
    const machine = `${m.nproc} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.qemu}, Node ${m.node}, load ${m.load}`;
    const row = (name: string, how: string, k: keyof typeof res) => [
      name, how, `${(summarize(res[k].ms).median / 1000).toFixed(2)} s`, `${(summarize(res[k].bytes).median / MiB).toFixed(1)} MiB`,
    ];
    const body = `## Backups and snapshots: incremental vs full vs qemu-img convert

Measured ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} by \`npx tsx bench/backup.ts\`, ${ROUNDS} rounds (medians), on ${machine}.
A running TCG test guest with a 1 GiB qcow2 disk holding 384 MiB of random data; before each incremental the guest overwrites 64 MiB with random data.
Backup times are wall time of the API call (target creation, blockdev-backup, SHA-256 of the result, catalogue write).

${table(['what', 'how', 'time', 'bytes written'], [
    row('full backup', 'blockdev-backup sync=full (running VM)', 'full'),
    row('incremental after 64 MiB changed', 'blockdev-backup sync=bitmap into an overlay', 'incremental'),
    row('plain copy', 'qemu-img convert -U -O qcow2', 'convert'),
  ])}

Disk-only snapshots of the same running VM (fsfreeze through the guest agent included), same run:

${table(['snapshot', 'create', 'delete', 'how'], [
    ['internal', ms('intCreate'), ms('intDelete'), 'blockdev-snapshot-internal-sync / snapshot-delete job'],
    ['external', ms('extCreate'), ms('extDelete'), 'qemu-img create + blockdev-snapshot / block-stream of the base into the overlay'],
  ])}
Ratios external / internal: create ${ratio('extCreate', 'intCreate')}, delete ${ratio('extDelete', 'intDelete')} (deleting the only external node streams the whole 384 MiB base into the overlay; an internal delete only drops refcounts).
`;
    writeSection(path.resolve(import.meta.dirname, '..', 'docs', 'benchmarks.md'), 'backup', body);
    process.stdout.write(body);
  } finally {
    await stopDaemon(d).catch(() => undefined);
    for (const pid of qemusMentioning(stateDir)) await stopPid(pid);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
