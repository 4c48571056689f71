/**
 * What a migration source compares before moving a VM to this host: QEMU's
 * version and machine types (`-machine help`), the accelerator, the host CPU
 * flags and available memory. The QEMU answers are asked once per daemon.
 */
import { readFile } from 'node:fs/promises';
import { runChecked } from '../../shared/index.js';
import type { Accel } from '../driver.js';
import type { HostFacts } from '../migratable.js';

/** Migration capabilities by the QEMU version that introduced them. */
const CAPABILITY_SINCE: ReadonlyArray<[string, number, number]> = [['xbzrle', 1, 2], ['auto-converge', 1, 6], ['postcopy-ram', 2, 6], ['pause-before-switchover', 2, 11], ['multifd', 4, 0]];

export function parseQemuVersion(text: string): string {
  return /version (\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1] ?? 'unknown';
}

/** First column of `-machine help` plus the aliases named in "(alias of …)". */
export function parseMachineHelp(text: string): string[] {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+\S/.exec(line);
    if (!m || m[1] === 'Supported') continue;
    out.add(m[1]!);
  }
  return [...out];
}

export function capabilitiesOf(version: string): string[] {
  const [maj = 0, min = 0] = version.split('.').map(Number);
  return CAPABILITY_SINCE.filter(([, M, m]) => maj > M || (maj === M && min >= m)).map(([c]) => c);
}

export function parseMeminfo(text: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

export function parseCpuFlags(text: string): string[] {
  return (/^flags\s*:\s*(.*)$/m.exec(text)?.[1] ?? '').split(/\s+/).filter(Boolean).sort();
}

export function hostFactsProbe(qemuBinary: string, accel: (signal: AbortSignal) => Promise<Accel>) {
  let qemu: Promise<{ version: string; machines: string[] }> | undefined;
  const askQemu = async (signal: AbortSignal) => {
    const opts = { timeoutMs: 30_000, signal, missingCode: 'QEMU_MISSING', failCode: 'MIGRATION_FAILED' } as const;
    const version = parseQemuVersion((await runChecked(qemuBinary, ['--version'], opts)).stdout);
    const machines = parseMachineHelp((await runChecked(qemuBinary, ['-machine', 'help'], opts)).stdout);
    return { version, machines };
  };
  return async (signal: AbortSignal): Promise<HostFacts> => {
    qemu ??= askQemu(signal);
    qemu.catch(() => (qemu = undefined));
    const q = await qemu;
    const [meminfo, cpuinfo] = await Promise.all([readFile('/proc/meminfo', 'utf8'), readFile('/proc/cpuinfo', 'utf8')]);
    return {
      qemuVersion: q.version, machineTypes: q.machines, accel: await accel(signal), cpuFlags: parseCpuFlags(cpuinfo),
      memAvailableBytes: parseMeminfo(meminfo, 'MemAvailable'), capabilities: capabilitiesOf(q.version),
    };
  };
}
