/** How QEMU is confined on this host (issue 23): per-VM cgroups and AppArmor profiles; the seccomp sandbox is always on. */
import { fix, type DoctorDeps, type Finding } from './types.js';

export async function confinementChecks(d: DoctorDeps): Promise<Finding[]> {
  return [...await qemuUserChecks(d), ...await cgroupChecks(d), ...await appArmorChecks(d)];
}

/**
 * Who QEMU runs as (qemuUser, docs/security.md "QEMU as its own user"): per-vm
 * is ok unless the VMs cannot reach the daemon's folders (a state directory
 * under a closed home: every start fails, critical) or another live daemon of
 * this host gives its VMs uids from an overlapping range (two VMs could share
 * a uid and open each other's files: a warning). root is a warning for a root
 * daemon (per-vm is the default there, so root was chosen: a QEMU taken over
 * by a guest escape has root's power on the host) and info for a daemon that
 * is not root (QEMU runs as that unprivileged user).
 */
async function qemuUserChecks(d: DoctorDeps): Promise<Finding[]> {
  if (!d.qemuUser) return [];
  const q = await d.qemuUser();
  if (q.mode === 'root') {
    if (q.uid !== 0) {
      return [{ check: 'qemu-user', severity: 'info', subject: `uid ${q.uid}`, message: `QEMU runs as the daemon's own user (uid ${q.uid}, not root); only a root daemon can give each VM a uid of its own (qemuUser: per-vm)`, fix: null }];
    }
    return [{
      check: 'qemu-user', severity: 'warning', subject: 'root',
      message: 'QEMU runs as root (qemuUser: root): a guest that escapes into its QEMU has root on this host. Remove qemuUser: root from the daemon config (or POLYVISOR_QEMU_USER=root from its environment) so each VM\'s QEMU runs as its own unprivileged uid (the default, qemuUser: per-vm), and restart the daemon.',
      fix: null,
    }];
  }
  const range = `${q.base + 1}-${q.base + q.count}`;
  const out: Finding[] = [];
  if (q.closed) {
    const c = q.closed;
    out.push({
      check: 'qemu-user', severity: 'critical', subject: c.folder,
      message: `VMs cannot start: their QEMUs run as their own uids (${range}, qemuUser: per-vm) and cannot pass through ${c.folder} (mode ${c.mode.toString(8)}, owner ${c.owner}) on the way to ${c.on}. Move the daemon's state directory under a folder every user may pass (e.g. --state-dir /var/lib/polyvisor), make ${c.folder} passable (chmod o+x ${c.folder}: lets others pass, not list), or set qemuUser: root.`,
      fix: null,
    });
  }
  for (const o of q.overlaps) {
    out.push({
      check: 'qemu-user', severity: 'warning', subject: o.stateDir,
      message: `the polyvisord with state directory ${o.stateDir} (pid ${o.pid}) gives its VMs uids ${o.base + 1}-${o.base + o.count}, overlapping this daemon's ${range}: a VM of each can get the same uid and open the other's files. Give one of the two daemons another qemuUidBase (docs/config.md) and restart it.`,
      fix: null,
    });
  }
  if (out.length === 0) out.push({ check: 'qemu-user', severity: 'ok', subject: 'per-vm', message: `each VM's QEMU runs as its own uid from ${range} (qemuUser: per-vm); no other daemon on this host uses an overlapping range`, fix: null });
  return out;
}

async function cgroupChecks(d: DoctorDeps): Promise<Finding[]> {
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

/**
 * Per-VM AppArmor profiles (drivers/qemu/apparmor-profile.ts) need the LSM in
 * the kernel and apparmor_parser. Info, not a warning: VMs are confined by
 * their seccomp sandbox, cgroup and (with qemuUser per-vm) their own uid
 * without it; the profile is the layer on top that libvirt adds.
 */
async function appArmorChecks(d: DoctorDeps): Promise<Finding[]> {
  if (!d.probeAppArmor) return [];
  const a = await d.probeAppArmor();
  if (a.loadable) {
    return [{ check: 'apparmor', severity: 'ok', subject: null, message: 'AppArmor is enabled and apparmor_parser is installed: per-VM QEMU profiles can be loaded here', fix: null }];
  }
  const how = a.missing === 'parser'
    ? 'install the parser'
    : a.missing === 'securityfs'
      ? 'mount securityfs (`mount -t securityfs securityfs /sys/kernel/security`)'
      : 'boot a kernel with AppArmor enabled: add `apparmor=1 security=apparmor` to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub and reboot (Debian and Ubuntu kernels have it built in), and install the apparmor package';
  return [{
    check: 'apparmor', severity: 'info', subject: null,
    message: `per-VM AppArmor profiles cannot be loaded here: ${a.reason}. VMs run without a MAC profile (their seccomp sandbox and cgroup still apply); to enable it, ${how}.`,
    fix: a.missing === 'parser' ? fix('apt-get', 'install', 'apparmor') : a.missing === 'securityfs' ? fix('mount', '-t', 'securityfs', 'securityfs', '/sys/kernel/security') : null,
  }];
}
