/**
 * The libvirt peer of the migration benchmark: one domain moved back and forth
 * with `virsh migrate --live` between the system libvirtd and a second one
 * (libvirt-pair.ts), over TCP on 127.0.0.1, libvirt's defaults otherwise
 * (unlimited bandwidth, QEMU's 300 ms downtime limit). Every move is checked
 * with the guest's memtest, like Polyvisor's.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Guest } from './guest.js';
import { domainPid, domainXml, ensureLibvirt, undefineDomain, type StartedDaemon } from './libvirt.js';
import { startSecondLibvirtd, type SecondLibvirtd } from './libvirt-pair.js';
import { heartbeats, type MigrationCase, type MigrationSample } from './migration-polyvisor.js';
import { cmdlineOf, run, runOk, sleep, stopPid } from './proc.js';

const SYSTEM = 'qemu:///system';


async function waitHb(serialLog: string, after: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = heartbeats(readFileSync(serialLog, 'utf8').toString()).at(-1)?.hb ?? 0;
    if (last > after) return last;
    if (Date.now() > deadline) throw new Error(`libvirt guest: no memtest heartbeat after ${after}`);
    await sleep(200);
  }
}

/** "Total downtime: 87 ms" / "Time elapsed: 5100 ms" from `virsh domjobinfo --completed`. */
export function parseJobInfo(text: string): { totalMs: number; downtimeMs: number } {
  const num = (label: string): number => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN);
  return { totalMs: num('Time elapsed'), downtimeMs: num('Total downtime') };
}

export interface LibvirtResult {
  samples: MigrationSample[];
  /** The -m argument libvirt gave QEMU (libvirt aligns x86 RAM to 1 MiB). */
  memoryArg: string;
  /** Set when the guest stopped answering after a move (the rounds stop there). */
  failure?: string;
}

/** Pushes the daemons it had to start onto `started` (the caller stops them by PID at the end). */
export async function libvirtMigrations(
  root: string, benchDir: string, g: Guest, c: MigrationCase, rounds: number, name: string, started: StartedDaemon[],
): Promise<LibvirtResult> {
  started.push(...(await ensureLibvirt()));
  let second: SecondLibvirtd | undefined;
  const serialLog = path.join(root, `${name}.serial.log`);
  const samples: MigrationSample[] = [];
  let memoryArg = '?';
  let failure: string | undefined;
  let at = 0;
  try {
    second = await startSecondLibvirtd(path.join(root, `lv2-${name}`), benchDir);
    const kib = Math.round(Number(c.memory.replace(/Ki$/, '')));
    const xml = domainXml({
      name, memoryMiB: c.memoryMiB, vcpus: 1, machine: 'q35', cpuModel: 'max', kernel: g.kernel, initrd: g.initrd,
      cmdline: `${g.cmdline} pv.name=${name} pv.memtest=${c.memtestMb}:${c.rateMbps}`, serialLog, agentSocket: null,
    })
      .replace(/<memory unit='MiB'>\d+<\/memory>/, `<memory unit='KiB'>${kib}</memory>`)
      .replace(`<source path='${serialLog}'/>`, `<source path='${serialLog}' append='on'/>`);
    const xmlFile = path.join(root, `${name}.xml`);
    writeFileSync(xmlFile, xml);
    await runOk('virsh', ['-c', SYSTEM, 'create', xmlFile], 120_000);
    await waitHb(serialLog, 3, 120_000);
    const pid = domainPid(name);
    const argv = pid === null ? [] : cmdlineOf(pid);
    memoryArg = argv[argv.indexOf('-m') + 1] ?? '?';
    const uris = [SYSTEM, second.uri];
    for (let r = 0; r < rounds; r++) {
      const [from, to] = [uris[r % 2]!, uris[(r + 1) % 2]!];
      const hb0 = heartbeats(readFileSync(serialLog, 'utf8')).at(-1)?.hb ?? 0;
      const t0 = Date.now();
      await runOk('virsh', ['-c', from, 'migrate', '--live', name, to, '--migrateuri', `tcp://127.0.0.1:${49300 + r}`, '--listen-address', '127.0.0.1'], 300_000);
      const wallMs = Date.now() - t0;
      const info = parseJobInfo(await runOk('virsh', ['-c', to, 'domjobinfo', name, '--completed'], 60_000));
      at = (r + 1) % 2;
      try {
        await waitHb(serialLog, hb0 + 3, 60_000);
      } catch {
        failure = `move ${r + 1}: virsh reported success (total ${info.totalMs} ms, downtime ${info.downtimeMs} ms), then the guest's memtest heartbeat stopped at hb=${hb0}`;
        samples.push({ totalMs: info.totalMs, downtimeMs: info.downtimeMs, wallMs, passes: 0, throttle: 0, intact: false, rateMbps: 0 });
        break;
      }
      const log = readFileSync(serialLog, 'utf8');
      const after = heartbeats(log).filter((h) => h.hb > hb0);
      samples.push({
        totalMs: info.totalMs, downtimeMs: info.downtimeMs, wallMs, passes: 0, throttle: 0,
        intact: after.length >= 3 && after.every((h) => h.bad === 0) && !log.includes('MEMTEST BAD'),
        rateMbps: heartbeats(log).filter((h) => h.hb <= hb0).slice(-5).map((h) => h.rate).sort((a, b) => a - b)[2] ?? 0,
      });
    }
    await run('virsh', ['-c', uris[at]!, 'destroy', name], 60_000);
  } finally {
    await undefineDomain(name).catch(() => undefined);
    if (second) {
      await run('virsh', ['-c', second.uri, 'destroy', name], 60_000).catch(() => undefined);
      await stopPid(second.pid, 'SIGTERM', 15_000);
    }
  }
  return { samples, memoryArg, ...(failure ? { failure } : {}) };
}
