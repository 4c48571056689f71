/**
 * Warnings every writer shares: the parts of a Polyvisor spec no foreign
 * format holds (serial console, guest agent, cloud-init, labels, port
 * forwards, virtual networks, disk cache modes). Pure.
 */
import type { VmSpec } from '../spec/index.js';
import type { Warnings } from './map-helpers.js';

export interface LossyOptions {
  /** The format keeps labels (libvirt metadata). */
  labels?: boolean;
  /** The format keeps the description. */
  description?: boolean;
  /** The format keeps the CPU model. */
  cpuModel?: boolean;
  /** The format keeps sockets/cores/threads. */
  topology?: boolean;
  /** The format keeps disk cache modes. */
  cache?: boolean;
}

export function commonLossy(spec: VmSpec, w: Warnings, o: LossyOptions = {}): void {
  if (spec.cloudInit) w.add('cloudInit', 'the cloud-init seed is not exported: the guest is not seeded on the target');
  if (o.labels !== true && Object.keys(spec.labels).length > 0) w.add('labels', 'labels are not kept');
  if (o.description !== true && spec.description !== '') w.add('description', 'the description is not kept');
  if (o.cpuModel !== true && spec.cpu.model !== 'max' && spec.cpu.model !== 'host') w.add('cpu.model', `the CPU model ${spec.cpu.model} is not kept`);
  if (o.topology !== true && (spec.cpu.sockets > 1 || spec.cpu.threads > 1)) w.add('cpu.sockets', `the topology ${spec.cpu.sockets} sockets × ${spec.cpu.cores} cores × ${spec.cpu.threads} threads is not kept: ${spec.cpu.count} vCPUs`);
  if (spec.boot.kernel !== undefined) w.add('boot.kernel', 'direct kernel boot is not kept: the VM boots from its disks');
  spec.networks.forEach((n, i) => {
    if (n.network !== undefined) w.add(`networks[${i}].network`, `the virtual network ${n.network} is not kept: connect the NIC on the target`);
    if (n.portForwards.length > 0) w.add(`networks[${i}].portForwards`, 'port forwards are not kept');
    if (n.restrict === true) w.add(`networks[${i}].restrict`, 'the restricted user-mode NIC is not kept: the imported guest may reach its host; isolate it on the target');
  });
  spec.disks.forEach((d, i) => {
    if (o.cache !== true && d.cache !== 'writeback') w.add(`disks[${i}].cache`, `the cache mode ${d.cache} is not kept`);
  });
}
