/**
 * What confinement costs (issue 23): the same test guest started by the real
 * QEMU driver with confinement on (QEMU as the VM's own uid through setpriv,
 * its files granted, a cgroup of its own) and off (QEMU as root, no cgroup),
 * alternating in one run. The seccomp sandbox is on in both (it is not a
 * setting). Per start: spawn to the monitor's answer (what the daemon waits
 * for), spawn to the guest's ready line, and the QEMU's CPU use while the
 * guest idles for BENCH_IDLE_SECONDS afterwards.
 *
 *   npx tsx bench/confinement.ts            (BENCH_ROUNDS=6, BENCH_IDLE_SECONDS=10)
 *
 * Writes the `confinement` section of docs/benchmarks.md. Goal: confinement
 * costs under 5% of start time.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createQemuDriver, VmUsers, type QemuDriver } from '../src/drivers/qemu/index.js';
import { timeoutSignal } from '../src/shared/index.js';
import { validateSpec } from '../src/spec/index.js';
import { loadGuest } from './lib/guest.js';
import { sleep } from './lib/proc.js';
import { table, writeSection } from './lib/report.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 6);
const IDLE_S = Number(process.env['BENCH_IDLE_SECONDS'] ?? 10);
const TICK = 100; // USER_HZ

interface Sample { monitorMs: number; readyMs: number; idleCpuPct: number }

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}

async function once(driver: QemuDriver, root: string, kernel: string, initrd: string, cmdline: string, ready: string, tag: string): Promise<Sample> {
  const spec = validateSpec({ name: `conf-${tag}`, memory: '128Mi', boot: { kernel, initrd, cmdline }, disks: [{ name: 'data', path: path.join(root, `data-${tag}.raw`), format: 'raw' }] });
  const dir = path.join(root, `vm-${tag}`);
  const t0 = performance.now();
  const inst = await driver.start({ id: randomUUID(), spec, dir, diskPaths: { data: path.join(root, `data-${tag}.raw`) } }, timeoutSignal(120_000));
  const monitorMs = performance.now() - t0;
  try {
    const log = path.join(dir, 'serial.log');
    for (;;) {
      if (existsSync(log) && readFileSync(log, 'utf8').includes(ready)) break;
      if (performance.now() - t0 > 120_000) throw new Error(`${tag}: no ready line in 120 s`);
      await sleep(20);
    }
    const readyMs = performance.now() - t0;
    const c0 = cpuTicks(inst.info.pid);
    await sleep(IDLE_S * 1000);
    const idleCpuPct = ((cpuTicks(inst.info.pid) - c0) / TICK / IDLE_S) * 100;
    return { monitorMs, readyMs, idleCpuPct };
  } finally {
    await inst.kill(timeoutSignal(30_000));
  }
}

async function main(): Promise<void> {
  const g = loadGuest();
  const root = mkdtempSync(path.join('/tmp', 'pv-bench-conf-'));
  try {
    mkdirSync(path.join(root, 'guest'));
    const kernel = path.join(root, 'guest', 'vmlinuz');
    const initrd = path.join(root, 'guest', 'initrd');
    copyFileSync(g.kernel, kernel);
    copyFileSync(g.initrd, initrd);
    const users = new VmUsers({ base: 2_000_000_000, count: 1000, allocDir: path.join(root, 'uids'), roots: [root] });
    const on = createQemuDriver({ accelOverride: 'tcg', cacheDir: path.join(root, 'cache'), users });
    const off = createQemuDriver({ accelOverride: 'tcg', cacheDir: path.join(root, 'cache'), cgroupRoot: false });
    const samples: Record<'on' | 'off', Sample[]> = { on: [], off: [] };
    for (let i = 0; i < ROUNDS; i++) {
      const order: Array<'on' | 'off'> = i % 2 ? ['on', 'off'] : ['off', 'on'];
      for (const mode of order) {
        const tag = `${mode}${i}`;
        writeFileSyncSparse(path.join(root, `data-${tag}.raw`), 64 * 1024 * 1024);
        const s = await once(mode === 'on' ? on : off, root, kernel, initrd, g.cmdline, g.readyLine, tag);
        samples[mode].push(s);
        console.log(`${tag}: monitor ${s.monitorMs.toFixed(0)} ms, ready ${s.readyMs.toFixed(0)} ms, idle CPU ${s.idleCpuPct.toFixed(1)}%`);
      }
    }
    const row = (mode: 'on' | 'off') => {
      const s = samples[mode];
      return [median(s.map((x) => x.monitorMs)), median(s.map((x) => x.readyMs)), median(s.map((x) => x.idleCpuPct))] as const;
    };
    const [mOn, rOn, cOn] = row('on');
    const [mOff, rOff, cOff] = row('off');
    const body = [
      '## Confinement: QEMU as its own user with a cgroup, against QEMU as root (issue 23)',
      '',
      `\`npx tsx bench/confinement.ts\`, ${new Date().toISOString().slice(0, 16)}Z, ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(1)} at the end; TCG; the test guest (128 MiB, direct kernel boot, one 64 MiB raw disk); ${ROUNDS} starts each, alternating; medians. Both run under QEMU's seccomp sandbox.`,
      '',
      table(['measure', 'confined (per-VM uid, cgroup)', 'as root, no cgroup', 'confined / root'], [
        ['spawn to monitor answer', `${mOn.toFixed(0)} ms`, `${mOff.toFixed(0)} ms`, `${(mOn / mOff).toFixed(3)}x`],
        ['spawn to guest ready line', `${rOn.toFixed(0)} ms`, `${rOff.toFixed(0)} ms`, `${(rOn / rOff).toFixed(3)}x`],
        [`QEMU CPU while idle (${IDLE_S} s)`, `${cOn.toFixed(1)}%`, `${cOff.toFixed(1)}%`, cOff > 0 ? `${(cOn / cOff).toFixed(2)}x` : '-'],
      ]),
      '',
      `Goal: confinement costs under 5% of start time — ${rOn / rOff < 1.05 ? 'met' : 'missed'} (${(((rOn / rOff) - 1) * 100).toFixed(1)}% to the ready line).`,
    ].join('\n');
    console.log(`\n${body}`);
    writeSection(path.join(import.meta.dirname, '..', 'docs', 'benchmarks.md'), 'confinement', body);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function writeFileSyncSparse(file: string, bytes: number): void {
  rmSync(file, { force: true });
  const fd = openSync(file, 'w', 0o600); // sparse: truncated to size, no data written
  ftruncateSync(fd, bytes);
  closeSync(fd);
}

await main();
