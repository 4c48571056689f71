/** What the Proxmox VE driver can do over the REST API (docs/drivers-proxmox.md says how and why not). */
import { matrix, no, yes, type CapabilityMatrix } from '../capabilities.js';

export const PROXMOX_DRIVER_NAME = 'proxmox';

export const PROXMOX_CAPABILITIES: CapabilityMatrix = matrix({
  'power.start': yes('status/start, task followed'),
  'power.stop': yes('status/shutdown (ACPI); returns once Proxmox accepted it'),
  'power.kill': yes('status/stop with overrule-shutdown'),
  'power.pause': yes('status/suspend and status/resume'),
  'power.suspend': yes('hibernate: status/suspend with todisk=1; the next start restores RAM'),
  'power.reboot': yes('status/reboot'),
  'console.serial': no('Proxmox serves consoles through termproxy/vncwebsocket sessions; not built'),
  'console.graphical': no('Proxmox serves VNC through vncproxy/vncwebsocket sessions; not built'),
  'snapshot.create': yes('qemu-server snapshots'),
  'snapshot.memory': yes('vmstate=1 on a running VM'),
  'snapshot.tree': yes('parent links; "current" marks where the VM runs from'),
  'snapshot.revert': yes('rollback; a snapshot with RAM comes back running'),
  'snapshot.delete': yes(),
  backup: no('vzdump and Proxmox Backup Server are not driven'),
  'migrate.live': yes('between nodes of the cluster, online=1'),
  'move.toLocal': no('the API (Proxmox VE 8) has no download of a guest disk volume: only uploads (storage/upload, download-url) and file-level restore from PBS backups'),
  'move.fromLocal': no('would need a disk upload (import content, Proxmox VE 8.2+) and a create; not built'),
  reconfigure: yes('PUT config (cores, sockets, memory) of a stopped VM, guarded by the config digest'),
  clone: yes('full clone under the next free vmid'),
  hotplug: no('not built'),
  import: no('not built'),
  export: no('not built'),
  metrics: yes('from /cluster/resources: memory, disk and network counters (CPU is a utilisation fraction, not a counter)'),
  events: no('Proxmox pushes no VM events; the inventory polls'),
});
