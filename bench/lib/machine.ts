/** What the benchmark ran on, for the report. */
import os from 'node:os';
import { run } from './proc.js';

export interface Machine {
  date: string;
  nproc: string;
  cpu: string;
  memoryGiB: string;
  kernel: string;
  qemu: string;
  libvirt: string;
  node: string;
  load: string;
}

async function firstLine(cmd: string, args: string[]): Promise<string> {
  try {
    const r = await run(cmd, args, 30_000);
    return (r.stdout.trim() || r.stderr.trim()).split('\n')[0] ?? '?';
  } catch {
    return 'not installed';
  }
}

export async function describeMachine(qemuBinary: string): Promise<Machine> {
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc: await firstLine('nproc', []),
    cpu: os.cpus()[0]?.model ?? '?',
    memoryGiB: (os.totalmem() / 1024 ** 3).toFixed(1),
    kernel: `${os.type()} ${os.release()}`,
    qemu: await firstLine(qemuBinary, ['--version']),
    libvirt: `${await firstLine('libvirtd', ['--version'])}; virsh ${await firstLine('virsh', ['--version'])}`,
    node: process.version,
    load: loadNow(),
  };
}

/** 1/5/15-minute load averages, e.g. "1.20 0.95 0.60". */
export const loadNow = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');
