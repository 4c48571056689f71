/**
 * PCI devices other QEMU processes of this host hold: the `host=` of every
 * `vfio-pci` device on their command lines (/proc/PID/cmdline), so a start
 * is refused a device, or an IOMMU group, that another VM — Polyvisor's or
 * not — already has. Reads only.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** `host=` of vfio-pci devices in one argv; addresses without a domain get 0000. */
export function vfioHostsOf(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of argv) {
    if (!/^(driver=)?vfio-pci(,|$)/.test(a)) continue;
    const m = /(?:^|,)host=([0-9a-fA-F:.]+)/.exec(a);
    if (m) out.push((m[1]!.split(':').length === 2 ? `0000:${m[1]}` : m[1]!).toLowerCase());
  }
  return out;
}

export async function pciInUse(root = '/'): Promise<Set<string>> {
  const proc = path.join(root, 'proc');
  const pids = (await readdir(proc).catch(() => [])).filter((p) => /^\d+$/.test(p));
  const out = new Set<string>();
  await Promise.all(pids.map(async (pid) => {
    const cmd = await readFile(path.join(proc, pid, 'cmdline'), 'utf8').catch(() => '');
    if (!cmd.includes('vfio-pci')) return;
    for (const a of vfioHostsOf(cmd.split('\0'))) out.add(a);
  }));
  return out;
}
