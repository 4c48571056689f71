/**
 * The vSphere driver: vCenter or ESXi over the vim25 SOAP API (our own
 * client: soap-*.ts), tested against vcsim, VMware's vCenter simulator.
 * docs/drivers-vsphere.md says what maps and what does not.
 */
import { matrix, no, yes } from '../capabilities.js';
import type { EndpointDriver } from '../endpoint.js';
import { openSession } from './session.js';

export const VSPHERE_CAPABILITIES = matrix({
  'power.start': yes('PowerOnVM_Task'),
  'power.stop': yes('ShutdownGuest: needs VMware Tools in the guest'),
  'power.kill': yes('PowerOffVM_Task'),
  'power.pause': no('vSphere has no pause; suspend saves RAM to disk instead'),
  'power.suspend': yes('SuspendVM_Task'),
  'power.reboot': yes('ResetVM_Task (a hard reset)'),
  'console.serial': no('vSphere serial ports go to files, pipes or network URIs, not to a client of the API'),
  'console.graphical': no('vSphere consoles are WebMKS/VMRC tickets, not VNC'),
  'snapshot.create': yes('CreateSnapshot_Task'),
  'snapshot.memory': yes('memory snapshots of a running VM'),
  'snapshot.tree': yes('the VM\'s snapshot tree'),
  'snapshot.revert': yes('RevertToSnapshot_Task'),
  'snapshot.delete': yes('RemoveSnapshot_Task (children kept, disks consolidated)'),
  backup: no('vSphere backups go through VADP/CBT, not in this driver'),
  'migrate.live': yes('vMotion: RelocateVM_Task to a host'),
  'move.toLocal': yes('disks of a stopped VM over datastore HTTP access (/folder)'),
  'move.fromLocal': no('not built: needs an upload and a VM created from the spec'),
  reconfigure: yes('ReconfigVM_Task: numCPUs, memoryMB'),
  clone: yes('CloneVM_Task: a full clone, powered off'),
  hotplug: no('not built'),
  import: no('OVF/OVA through the interchange formats, not this driver'),
  export: no('OVF/OVA through the interchange formats, not this driver'),
  metrics: yes('summary.quickStats: guest memory in use; CPU, disk and network stay empty (vSphere gives rates, not totals)'),
  events: yes('PropertyCollector WaitForUpdatesEx'),
});

export interface VsphereDriverOptions {
  /** Overrides the driver's name (tests registering two). */
  name?: string;
}

export function createVsphereDriver(options: VsphereDriverOptions = {}): EndpointDriver {
  return {
    name: options.name ?? 'vsphere',
    title: 'VMware vCenter / ESXi over the vim25 SOAP API',
    urlExample: 'https://vcenter.example.com/sdk',
    capabilities: VSPHERE_CAPABILITIES,
    connect: (c, signal) => openSession(c, signal),
  };
}
