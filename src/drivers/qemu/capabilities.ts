/** What the native QEMU engine (the `local` endpoint) can do: everything Polyvisor runs itself. */
import { matrix, no, yes, type CapabilityMatrix } from '../capabilities.js';

export const QEMU_DRIVER_NAME = 'qemu';

export const QEMU_CAPABILITIES: CapabilityMatrix = matrix({
  'power.start': yes(),
  'power.stop': yes('ACPI power button, then a kill after the timeout when --force'),
  'power.kill': yes(),
  'power.pause': yes(),
  'power.suspend': yes('RAM saved to the VM\'s directory; the next start restores it'),
  'power.reboot': yes('through the guest agent when it answers, else a reset'),
  'console.serial': yes(),
  'console.graphical': yes('VNC over a WebSocket'),
  'snapshot.create': yes('internal (qcow2) and external (overlay) snapshots'),
  'snapshot.memory': yes('internal snapshots of a running VM keep RAM'),
  'snapshot.tree': yes(),
  'snapshot.revert': yes(),
  'snapshot.delete': yes(),
  backup: yes('full and incremental (dirty bitmaps), verified'),
  'migrate.live': yes('between daemons (peers), with disks over NBD'),
  'move.toLocal': no('it is local'),
  'move.fromLocal': no('it is local'),
  reconfigure: yes('spec edit while stopped'),
  clone: yes(),
  hotplug: yes('disks and NICs on virtual networks, NIC link up/down'),
  import: yes('disk images into the image library'),
  export: yes('disk images (qcow2, raw, vmdk, vdi, vhdx, vpc)'),
  metrics: yes(),
  events: yes('QMP events'),
});
