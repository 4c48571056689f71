/** What the XCP-ng driver can do over XAPI (docs/drivers-xcpng.md says how and why not). Tested against a simulator only. */
import { matrix, no, yes, type CapabilityMatrix } from '../capabilities.js';

export const XCPNG_DRIVER_NAME = 'xcpng';

export const XCPNG_CAPABILITIES: CapabilityMatrix = matrix({
  'power.start': yes('Async.VM.start (VM.resume for a suspended VM), task followed; tested against a simulator'),
  'power.stop': yes('VM.clean_shutdown, task followed'),
  'power.kill': yes('VM.hard_shutdown'),
  'power.pause': yes('VM.pause and VM.unpause'),
  'power.suspend': yes('VM.suspend; the next start resumes it'),
  'power.reboot': yes('VM.clean_reboot'),
  'console.serial': no('XAPI serves consoles as RFB over its /console handler; not built'),
  'console.graphical': no('XAPI serves consoles as RFB over its /console handler; not built'),
  'snapshot.create': yes('VM.snapshot, task followed'),
  'snapshot.memory': yes('VM.checkpoint of a running VM; a revert resumes it'),
  'snapshot.tree': yes('parent links of the snapshot records; the VM\'s parent is "current"'),
  'snapshot.revert': yes('VM.revert'),
  'snapshot.delete': yes('VM.destroy of the snapshot, then VDI.destroy of its disks'),
  backup: no('XCP-ng backups are Xen Orchestra\'s (delta exports over export_raw_vdi); not driven'),
  'migrate.live': yes('VM.pool_migrate between hosts of the pool, live, task progress followed; VM.migrate_send across pools is not built'),
  'move.toLocal': yes('disks of a halted VM streamed as VHD from /export_raw_vdi, converted with qemu-img'),
  'move.fromLocal': no('would need VDI.create and /import_raw_vdi; not built'),
  reconfigure: yes('VM.set_VCPUs_max / set_VCPUs_at_startup and VM.set_memory_limits of a halted VM'),
  clone: yes('VM.clone (fast copy-on-write clone on the same SR)'),
  hotplug: no('not built'),
  import: yes('from XVA / OVA / VHD files (polyvisor import)'),
  export: yes('to XVA / OVA / VHD files (polyvisor export)'),
  metrics: no('XAPI keeps figures in RRDs (/rrd_updates); not read'),
  events: yes('event.from long polls on the VM class'),
});
