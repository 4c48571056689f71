/**
 * Appliance boot benchmark (run by hand: `bash bench/run.sh appliance-boot`, or
 * `npx tsx bench/appliance-boot.ts`). In one run, under TCG, BENCH_ROUNDS times each (default 5):
 *   A) the appliance (guest/appliance/build.sh, qcow2, SeaBIOS, GRUB, 256 MiB, 1 vCPU),
 *   B) the Debian 12 guest (guest/debian/build.sh, direct kernel boot, 1 GiB, 2 vCPUs),
 * each from the QEMU process start to the guest agent answering `guest-ping`, then idle memory
 * used inside the guest (MemTotal - MemAvailable from /proc/meminfo, read through the agent
 * 5 s after it answered). Prints medians beside the seed's 5 s / 64 MB and the goals 1.5 s /
 * 32 MB, and writes the "appliance-boot" section of docs/benchmarks.md. The load average
 * at start and end is printed: timings on a busy host are not the machine's.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GuestAgentClient } from '../src/qmp/index.js';
import { loadNow } from './lib/machine.js';
import { writeSection } from './lib/report.js';
import { secs, summarize } from './lib/stats.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const IDLE_MS = 5_000;
const BOOT_TIMEOUT_MS = 10 * 60_000;
const log = (s: string): void => void process.stderr.write(`[appliance-boot] ${s}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function buildDir(script: string, args: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('bash', [path.join(ROOT, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    p.on('close', (code) => (code === 0 ? resolve(out.trim().split('\n').pop()!) : reject(new Error(`${script} failed (${code})`))));
  });
}

interface Sample {
  bootMs: number;
  usedKiB: number;
}

/** Starts QEMU with `args` plus an agent port; resolves when guest-ping answers, then reads idle memory. */
async function bootOnce(args: string[]): Promise<Sample> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-bench-appliance-'));
  const sock = path.join(dir, 'qga.sock');
  const t0 = performance.now();
  const q = spawn(
    'qemu-system-x86_64',
    [
      '-accel', 'tcg', '-nodefaults', '-display', 'none', '-snapshot', '-no-reboot', '-serial', 'null',
      '-device', 'virtio-serial-pci',
      '-chardev', `socket,path=${sock},server=on,wait=off,id=qga0`,
      '-device', 'virtserialport,chardev=qga0,name=org.qemu.guest_agent.0',
      ...args,
    ],
    { stdio: 'ignore' },
  );
  try {
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    for (;;) {
      if (Date.now() > deadline) throw new Error('no agent answer');
      if (q.exitCode !== null) throw new Error(`QEMU exited (${q.exitCode})`);
      const a = await GuestAgentClient.connect(sock, { timeoutMs: 1_000 }).catch(() => null);
      if (a) {
        const ok = await a.execute('guest-ping', {}, { timeoutMs: 1_000 }).then(() => true, () => false);
        if (ok) {
          const bootMs = performance.now() - t0;
          await sleep(IDLE_MS);
          await a.sync();
          const h = await a.execute<number>('guest-file-open', { path: '/proc/meminfo', mode: 'r' });
          const r = await a.execute<{ 'buf-b64': string }>('guest-file-read', { handle: h, count: 8192 });
          await a.execute('guest-file-close', { handle: h });
          a.close();
          const text = Buffer.from(r['buf-b64'], 'base64').toString('utf8');
          const kib = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
          return { bootMs, usedKiB: kib('MemTotal') - kib('MemAvailable') };
        }
        a.close();
      }
      await sleep(100);
    }
  } finally {
    if (q.pid !== undefined) {
      try {
        process.kill(q.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const loadStart = loadNow();
  const out = mkdtempSync(path.join(os.tmpdir(), 'pv-bench-appliance-out-'));
  await buildDir('guest/appliance/build.sh', ['--out', out, '--formats', 'qcow2']);
  const qcow2 = path.join(out, readFileSync(path.join(out, 'SHA256SUMS'), 'utf8').trim().split(/\s+/)[1]!);
  const deb = await buildDir('guest/debian/build.sh');
  const dm = JSON.parse(readFileSync(path.join(deb, 'manifest.json'), 'utf8')) as { cmdline: string; files: { kernel: string; initrd: string; disk: string } };

  const appliance = ['-m', '256', '-drive', `file=${qcow2},format=qcow2,if=virtio`];
  const debian = [
    '-m', '1024', '-smp', '2',
    '-kernel', path.join(deb, dm.files.kernel), '-initrd', path.join(deb, dm.files.initrd), '-append', dm.cmdline,
    '-drive', `file=${path.join(deb, dm.files.disk)},format=qcow2,if=virtio`,
  ];
  const a: Sample[] = [];
  const d: Sample[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    a.push(await bootOnce(appliance));
    log(`round ${i + 1} appliance ${secs(a.at(-1)!.bootMs)} s, ${(a.at(-1)!.usedKiB / 1024).toFixed(1)} MiB`);
    d.push(await bootOnce(debian));
    log(`round ${i + 1} debian    ${secs(d.at(-1)!.bootMs)} s, ${(d.at(-1)!.usedKiB / 1024).toFixed(1)} MiB`);
  }
  rmSync(out, { recursive: true, force: true });
  const loadEnd = loadNow();
  const row = (name: string, s: Sample[]): string => {
    const b = summarize(s.map((x) => x.bootMs));
    const m = summarize(s.map((x) => x.usedKiB / 1024));
    return `| ${name} | ${secs(b.median)} s (${secs(b.min)}–${secs(b.max)}) | ${m.median.toFixed(1)} MiB (${m.min.toFixed(1)}–${m.max.toFixed(1)}) |`;
  };
  const am = summarize(a.map((x) => x.bootMs)).median;
  const dmed = summarize(d.map((x) => x.bootMs)).median;
  const body = [
    '## Appliance boot and idle memory',
    '',
    `\`bench/appliance-boot.ts\`, ${ROUNDS} rounds each, alternating, TCG; from QEMU's start to the guest agent answering \`guest-ping\`;`,
    `memory used inside the guest (MemTotal - MemAvailable) ${IDLE_MS / 1000} s later. Load average at start ${loadStart}, at end ${loadEnd}.`,
    '',
    '| guest | boot to agent, median (min–max) | idle memory used, median (min–max) |',
    '| --- | --- | --- |',
    row('appliance (qcow2, SeaBIOS + GRUB, 256 MiB, 1 vCPU)', a),
    row('Debian 12 guest (direct kernel, 1 GiB, 2 vCPUs)', d),
    '',
    `Appliance / Debian guest boot: ${(am / dmed).toFixed(3)}. Seed: 5 s and 64 MB; goals: 1.5 s and 32 MB.`,
  ].join('\n');
  process.stdout.write(body + '\n');
  writeSection(path.join(ROOT, 'docs', 'benchmarks.md'), 'appliance-boot', body);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
