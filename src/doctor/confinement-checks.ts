/** How QEMU is confined on this host (issue 23): per-VM cgroups; the seccomp sandbox is always on. */
import { fix, type DoctorDeps, type Finding } from './types.js';

export async function confinementChecks(d: DoctorDeps): Promise<Finding[]> {
  if (!d.probeCgroups) return [];
  const v = await d.probeCgroups();
  if (typeof v === 'string') {
    return [{ check: 'cgroups', severity: 'ok', subject: `cgroup ${v}`, message: `each VM's QEMU runs in a cgroup of its own (cgroup ${v}) with CPU, memory and thread limits from its spec`, fix: null }];
  }
  return [{
    check: 'cgroups', severity: 'warning', subject: null,
    message: `VMs run without per-VM CPU, memory and thread limits: ${v.unavailable}. A guest (or a QEMU taken over by an escape) can use the whole host.`,
    // A container without cgroup delegation: the outer manager has to grant it; on a host, mounting cgroup2 is the fix.
    fix: fix('mount', '-t', 'cgroup2', 'none', '/sys/fs/cgroup'),
  }];
}
