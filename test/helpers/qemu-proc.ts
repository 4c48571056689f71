/** A VM's QEMU as the kernel sees it: found by the VM's id in its argv, and fields of /proc/PID/status. */
import { readdirSync, readFileSync } from 'node:fs';

/** The PID of the QEMU whose argv carries the VM's id (its uuid). */
export function qemuPidOf(vmId: string): number {
  for (const e of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (argv[0]?.includes('qemu') && argv.includes(vmId)) return Number(e);
  }
  throw new Error(`no QEMU for ${vmId}`);
}

/** One field of /proc/PID/status ("Uid", "CapEff", "Seccomp"…), trimmed. */
export function procStatusField(pid: number, name: string): string {
  return new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!.trim();
}
