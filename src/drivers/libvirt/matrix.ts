/** What the libvirt driver can do, and how (docs/drivers.md is generated from this). */
import { matrix, no, yes, type CapabilityMatrix } from '../capabilities.js';

export const LIBVIRT_MATRIX: CapabilityMatrix = matrix({
  'power.start': yes('virsh start (restores a managed save)'),
  'power.stop': yes('ACPI shutdown'),
  'power.kill': yes('virsh destroy'),
  'power.pause': yes('virsh suspend / resume'),
  'power.suspend': yes('managed save: RAM to disk, the domain stops; start restores it'),
  'power.reboot': yes('ACPI reboot'),
  'console.serial': yes('the unix-socket serial of domains Polyvisor defines; a pty serial when libvirtd runs on the daemon\'s host'),
  'console.graphical': no('not wired yet: domains get VNC on a socket or 127.0.0.1, Polyvisor does not proxy it'),
  'snapshot.create': yes('internal snapshots (qcow2 disks); disk-only of a stopped VM'),
  'snapshot.memory': yes('of a running or paused VM (QEMU savevm); revert gives a running VM'),
  'snapshot.tree': yes('libvirt keeps parents; a snapshot after a revert branches'),
  'snapshot.revert': yes('virsh snapshot-revert'),
  'snapshot.delete': yes('virsh snapshot-delete'),
  backup: no('libvirt 9.0 has virDomainBackupBegin, the driver does not use it yet; move the VM to local for Polyvisor backups'),
  'migrate.live': yes('virsh migrate --live between the libvirtd hosts of the endpoint (shared storage); offline when stopped'),
  'move.toLocal': yes('stopped VM; disks read as files on this host, config mapped by readDomainXml (lossy parts listed)'),
  'move.fromLocal': yes('domain XML from the spec (domainXml), defined on the first host'),
  reconfigure: yes('setvcpus / setmaxmem / setmem --config, stopped VM'),
  clone: yes('stopped VM on this host: disks copied in full, new UUID and MACs'),
  hotplug: no('not wired yet (virsh attach-disk would do it)'),
  import: no('through move.toLocal and the interchange formats'),
  export: no('through move.fromLocal and the interchange formats'),
  metrics: yes('virsh domstats of running domains'),
  events: yes('virsh event --loop: lifecycle events pushed by libvirtd'),
});
