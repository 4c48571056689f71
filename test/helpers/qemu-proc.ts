/** QEMU processes as the kernel sees them: their argv from /proc, and fields of /proc/PID/status. */
import { readdirSync, readFileSync } from 'node:fs';

/** Every running QEMU (argv[0] names qemu) with its argv. */
export function qemuProcesses(): Array<{ pid: number; argv: string[] }> {
  const out: Array<{ pid: number; argv: string[] }> = [];
  for (const e of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    if (argv[0]?.includes('qemu')) out.push({ pid: Number(e), argv });
  }
  return out;
}

/** The PID of the QEMU whose argv carries the VM's id (its uuid). */
export function qemuPidOf(vmId: string): number {
  const q = qemuProcesses().find((p) => p.argv.includes(vmId));
  if (!q) throw new Error(`no QEMU for ${vmId}`);
  return q.pid;
}

/** One field of /proc/PID/status ("Uid", "CapEff", "Seccomp"…), trimmed. */
export function procStatusField(pid: number, name: string): string {
  return new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!.trim();
}
