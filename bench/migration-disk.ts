/**
 * Host-to-host live move of the test guest with a NON-SHARED 1 GiB disk that
 * the guest writes at ~20 MB/s during the move (run by hand: `bash
 * bench/run.sh migration-disk`). Polyvisor (two polyvisord on 127.0.0.1 and
 * 127.0.0.2, bench/lib/migration-disk-polyvisor.ts) beside `virsh migrate
 * --live --copy-storage-all` between two libvirt daemons
 * (bench/lib/migration-disk-libvirt.ts), in the same run: BENCH_ROUNDS moves
 * (default 10) of each without load, then as many with both cores saturated
 * (one busy loop per core, bench/lib/cpu-hog.ts). Each round moves the
 * Polyvisor guest once and the libvirt guest once; the guest not being moved
 * is paused. After every move the guest's shell must answer on the
 * destination and its disk writer must go on. BENCH_LIBVIRT=0 skips libvirt.
 * Writes the "migration-disk" section of docs/benchmarks.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startCpuHog, stopCpuHog } from './lib/cpu-hog.js';
import type { DiskMoveSample, DiskMover } from './lib/disk-writer.js';
import { loadGuest } from './lib/guest.js';
import { stopLibvirt, type StartedDaemon } from './lib/libvirt.js';
import { describeMachine, loadNow } from './lib/machine.js';
import { LibvirtDiskPair } from './lib/migration-disk-libvirt.js';
import { PolyvisorDiskPair } from './lib/migration-disk-polyvisor.js';
import { stopDaemon, type Daemon } from './lib/polyvisor.js';
import { qemusMentioning, sleep, stopPid } from './lib/proc.js';
import { table, writeSection } from './lib/report.js';
import { summarize } from './lib/stats.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 10);
const LIBVIRT = process.env['BENCH_LIBVIRT'] !== '0';
const DISK_MIB = 1024;
const RATE_MB = 20;
const MEMORY_KIB = 262084;
const log = (s: string): void => void process.stderr.write(`[migration-disk] ${s}\n`);

type Who = 'Polyvisor' | 'virsh';
type Cond = 'without load' | 'with load';
const CONDS: Cond[] = ['without load', 'with load'];

const med = (xs: number[]): string => {
  if (!xs.length) return '–';
  const s = summarize(xs);
  return `${Math.round(s.median)} (${Math.round(s.min)}–${Math.round(s.max)})`;
};
const medOf = (xs: number[]): number | null => (xs.length ? summarize(xs).median : null);
const nums = (s: DiskMoveSample[], k: 'totalMs' | 'downtimeMs' | 'pauseMs' | 'wallMs' | 'rateMBps'): number[] =>
  s.filter((x) => x.ok).map((x) => x[k]).filter((v): v is number => typeof v === 'number');

/** "background 9, write-blocking 1 (1 switched)" from the samples' mirror text. */
function mirrorSummary(s: DiskMoveSample[]): string {
  const modes = new Map<string, number>();
  let switched = 0;
  const converge: number[] = [];
  const sync: number[] = [];
  for (const x of s) {
    if (!x.ok || x.mirror === '–') continue;
    const mode = x.mirror.split(/[ ,]/)[0]!;
    modes.set(mode, (modes.get(mode) ?? 0) + 1);
    switched += Number(/switched (\d+)/.exec(x.mirror)?.[1] ?? 0);
    sync.push(Number(/sync (\d+)/.exec(x.mirror)?.[1] ?? NaN));
    converge.push(Number(/converge (\d+)/.exec(x.mirror)?.[1] ?? NaN));
  }
  if (!modes.size) return '–';
  const m = [...modes].map(([k, v]) => `${k} ${v}`).join(', ');
  return `${m}${switched ? `; ${switched} switched to write-blocking` : ''}; sync ${med(sync.filter(Number.isFinite))}, converge ${med(converge.filter(Number.isFinite))}`;
}

/** Observations computed from the numbers: where Polyvisor's time goes, and whether the busy loops made a difference. */
function notes(samples: Map<string, DiskMoveSample[]>, key: (c: Cond, w: Who) => string, loadBefore: string): string[] {
  const out: string[] = [];
  for (const cond of CONDS) {
    const p = samples.get(key(cond, 'Polyvisor')) ?? [];
    const sync = p.filter((x) => x.ok).map((x) => Number(/sync (\d+)/.exec(x.mirror)?.[1] ?? NaN)).filter(Number.isFinite);
    const wall = medOf(nums(p, 'wallMs'));
    const lvTotal = medOf(nums(samples.get(key(cond, 'virsh')) ?? [], 'totalMs'));
    if (sync.length && wall) {
      out.push(`- ${cond}: Polyvisor's disk mirror took ${Math.round(summarize(sync).median)} ms (median) to first sync 1 GiB, ${Math.round((summarize(sync).median / wall) * 100)}% of its total time${lvTotal ? `; libvirt's whole job (disk and RAM) took ${Math.round(lvTotal)} ms` : ''}.`);
    }
  }
  const w = (c: Cond): number | null => medOf(nums([...(samples.get(key(c, 'Polyvisor')) ?? []), ...(samples.get(key(c, 'virsh')) ?? [])], 'wallMs'));
  const [idle, busy] = [w('without load'), w('with load')];
  if (idle !== null && busy !== null && busy <= idle) {
    out.push(`- The moves with the busy loops were not slower than those without (median total ${Math.round(busy)} vs ${Math.round(idle)} ms, both tools):`,
      `  with the load average already at ${loadBefore.split(' ')[0]} from other work, two more busy loops changed little.`);
  }
  return out;
}

async function main(): Promise<void> {
  const guest = loadGuest();
  const loadBefore = loadNow();
  const otherQemus = qemusMentioning('').length;
  log(`load before: ${loadBefore}; ${otherQemus} other QEMU processes running`);
  const root = mkdtempSync('/tmp/pvmd-');
  const daemons: Daemon[] = [];
  const libvirtStarted: StartedDaemon[] = [];
  const hog: number[] = [];
  const movers = new Map<Who, DiskMover>();
  const samples = new Map<string, DiskMoveSample[]>();
  const key = (c: Cond, w: Who): string => `${c}/${w}`;
  let memoryArg = '?';
  try {
    const pv = await PolyvisorDiskPair.start({ root, guest, name: 'pvdisk', memory: `${MEMORY_KIB}Ki`, diskMiB: DISK_MIB, rateMB: RATE_MB }, daemons);
    movers.set('Polyvisor', pv);
    log('Polyvisor guest up, disk filled, writer running');
    if (LIBVIRT) {
      await pv.pause();
      const lv = await LibvirtDiskPair.start({
        root, benchDir: import.meta.dirname, guest, name: 'pvbench-disk', memoryKiB: MEMORY_KIB, diskMiB: DISK_MIB, rateMB: RATE_MB, started: libvirtStarted,
      });
      memoryArg = lv.memoryArg;
      movers.set('virsh', lv);
      log(`libvirt guest up (-m ${memoryArg}), disk filled, writer running`);
      await lv.pause();
      await pv.resume();
    }
    for (const cond of CONDS) {
      if (cond === 'with load') {
        hog.push(...startCpuHog());
        log(`busy loops: pids ${hog.join(' ')}`);
        await sleep(2000);
      }
      for (let r = 0; r < ROUNDS; r++) {
        for (const [who, m] of movers) {
          for (const [w2, other] of movers) if (w2 !== who) await other.pause();
          await m.resume();
          await sleep(1000);
          const s = await m.move();
          log(`${cond}, ${who} #${r + 1}: ${s.ok ? 'ok' : 'FAILED'} total ${s.totalMs ?? '–'} ms, downtime ${s.downtimeMs ?? '–'} ms, pause ${s.pauseMs ?? '–'} ms, wall ${s.wallMs} ms, guest ${s.rateMBps?.toFixed(1) ?? '–'} MB/s, mirror ${s.mirror}${s.error ? `, error ${s.error}` : ''}`);
          samples.set(key(cond, who), [...(samples.get(key(cond, who)) ?? []), s]);
        }
      }
      await stopCpuHog(hog);
    }
  } finally {
    await stopCpuHog(hog).catch(() => undefined);
    for (const m of movers.values()) await m.stop().catch((e: unknown) => log(`cleanup: ${(e as Error).message}`));
    for (const d of daemons) await stopDaemon(d).catch(() => undefined);
    await stopLibvirt(libvirtStarted).catch(() => undefined);
    for (const pid of qemusMentioning(root)) await stopPid(pid, 'SIGKILL').catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }

  const rows: string[][] = [];
  const ratios: string[][] = [];
  const errors: string[] = [];
  for (const cond of CONDS) {
    for (const who of movers.keys()) {
      const s = samples.get(key(cond, who)) ?? [];
      rows.push([
        cond, who === 'Polyvisor' ? 'Polyvisor (`migrate` to the other daemon)' : 'libvirt (`virsh migrate --live --copy-storage-all`)',
        `${s.filter((x) => x.ok).length}/${s.length}`, med(nums(s, 'wallMs')), med(nums(s, 'downtimeMs')), med(nums(s, 'pauseMs')),
        med(nums(s, 'totalMs')), med(nums(s, 'rateMBps')), who === 'Polyvisor' ? mirrorSummary(s) : '–',
      ]);
      for (const [i, x] of s.entries()) if (!x.ok) errors.push(`${cond}, ${who}, move ${i + 1}: ${x.error ?? '?'}`);
    }
    const p = samples.get(key(cond, 'Polyvisor')) ?? [];
    const v = samples.get(key(cond, 'virsh')) ?? [];
    if (p.length && v.length) {
      const ratio = (k: 'totalMs' | 'downtimeMs' | 'pauseMs' | 'wallMs'): string => {
        const a = medOf(nums(p, k));
        const b = medOf(nums(v, k));
        return a === null || b === null || b === 0 ? '–' : (a / b).toFixed(2);
      };
      const rate = (s: DiskMoveSample[]): number => s.filter((x) => x.ok).length / s.length;
      ratios.push([cond, `${(rate(p) * 100).toFixed(0)}% / ${(rate(v) * 100).toFixed(0)}%`, ratio('wallMs'), ratio('downtimeMs'), ratio('pauseMs')]);
    }
  }
  const m = await describeMachine('qemu-system-x86_64');
  const body = [
    '## Live migration with a non-shared disk being written (`bench/migration-disk.ts`)',
    '',
    `${m.date}; ${m.nproc} cores (${m.cpu}), ${m.memoryGiB} GiB, ${m.qemu}; ${m.libvirt}; Node ${m.node}.`,
    `Load average before the run: ${loadBefore}, after it: ${loadNow()}; QEMU processes of other work running when it started: ${otherQemus}`,
    `${otherQemus > 0 || Number(loadBefore.split(' ')[0]) > 1 ? '(other engineers\' test suites ran on this machine during the run, so "without load" means "without our busy loops", not an idle host).' : '(the host was otherwise idle).'}`,
    '',
    `The test guest (1 vCPU, TCG, direct kernel boot, Polyvisor ${MEMORY_KIB}Ki, libvirt \`-m ${memoryArg}\`) with a ${DISK_MIB / 1024} GiB qcow2 data disk`,
    '(virtio, /dev/vda, not shared: each side has its own file). Before the first move the guest fills the whole disk with one random',
    `4 MiB block (so every move copies a fully allocated 1 GiB), then writes that block at consecutive offsets with O_DIRECT, paced to ${RATE_MB} MB/s`,
    '(bench/lib/disk-writer.ts, a busybox shell loop started through the serial console). Each round moves the Polyvisor guest once and',
    'the libvirt guest once, back and forth between the two sides, the other guest paused meanwhile; first',
    `${ROUNDS} rounds without load, then ${ROUNDS} with both cores saturated (one \`bash -c 'while :; do :; done'\` per core at normal priority, started and stopped by PID).`,
    'A move counts as a success when the tool reported success AND, on the destination, the guest\'s shell answered and its writer\'s',
    'block count went on; a failed move is recorded and the next move starts from wherever the guest is.',
    '',
    '- **Polyvisor**: two polyvisord on 127.0.0.1 and 127.0.0.2 with their own state directories; `POST /v1/vms/NAME/migrate`',
    '  `{ target: { url, token } }`, policy defaults (disk mirrored over NBD with blockdev-mirror, mode `auto`).',
    '- **libvirt**: the system libvirtd and a second libvirtd in a private mount namespace (bench/lib/libvirt-pair.ts);',
    '  `virsh migrate --live --copy-storage-all NAME DEST --migrateuri tcp://127.0.0.1:PORT --listen-address 127.0.0.1`, defaults otherwise.',
    '  Destination disk: both daemons use the same domain XML, with the disk (and the serial console\'s unix socket) at',
    '  `/var/lib/libvirt/pvbench-disk/NAME.qcow2`; in the second daemon\'s namespace `/var/lib/libvirt` is bind-mounted from its own',
    '  directory, so that path is a different file on each side, as on two hosts. Before each move the destination image is created empty',
    '  with `qemu-img create -f qcow2` (same size): libvirt requires it to exist (it pre-creates images only for storage pools).',
    '',
    'Times in ms, median (min–max) over the successful moves. **total time** = the whole call, from the request to its return',
    '(Polyvisor: the REST call; libvirt: the `virsh migrate` process), disk copy, RAM stream and switch-over included: the',
    'like-for-like figure. downtime is what each tool reports (Polyvisor: QEMU\'s `query-migrate` downtime, which includes',
    'completing the mirrors with the vCPUs stopped; libvirt: `virsh domjobinfo --completed` on the destination, "Total downtime" =',
    'source stopped → destination resumed). pause: Polyvisor\'s downtime + the commit round trip (the target keeps the guest',
    'paused until the commit reaches it: what the guest sees); for libvirt the same as its downtime. "tool\'s own total" is NOT',
    'like for like: Polyvisor\'s `stats.totalTimeMs` covers the RAM stream only (the disk mirror before it is "sync" in the last',
    'column), libvirt\'s "Time elapsed" the whole job with the disk copy. guest MB/s: the writer\'s rate over the move.',
    'Last column: `stats.mirrors` of Polyvisor\'s result (mode per move, moves switched to write-blocking, time to first sync',
    'and time converging with the vCPUs stopped).',
    '',
    table(['load', 'who', 'success', 'total time', 'downtime', 'pause', 'tool\'s own total', 'guest MB/s', 'Polyvisor disk mirror'], rows),
    '',
    'Polyvisor / virsh: success rates side by side, then ratios of the medians:',
    '',
    table(['load', 'success (Polyvisor / virsh)', 'total time', 'downtime', 'pause'], ratios),
    '',
    ...(errors.length ? ['Failed moves:', '', ...errors.map((e) => `- ${e}`)] : ['No move failed.']),
    '',
    ...notes(samples, key, loadBefore),
    `- libvirt rounds the guest's RAM to whole MiB (\`-m ${memoryArg}\`), a multiple of 256 KiB, where QEMU 7.2 under TCG can miss dirty`,
    '  pages (../shared/FACTS.md); the check here is the shell and the writer going on, not a memory pattern, and the disk contents are',
    '  not compared after the move (test/migration-hosts.test.ts compares checksums).',
  ].join('\n');
  process.stdout.write(`${body}\n`);
  writeSection(path.join(path.resolve(import.meta.dirname, '..'), 'docs', 'benchmarks.md'), 'migration-disk', body);
}

main().catch((err: unknown) => {
  process.stderr.write(`[migration-disk] failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
