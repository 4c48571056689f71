/**
 * Clone: a full copy (full=1: independent disks, also of a template) under
 * the next free vmid Proxmox names (GET /cluster/nextid), on the source's
 * node, stopped. A clone task that fails or is stopped is cleaned up by
 * qemu-server itself; a name already used on the endpoint is refused first,
 * since VMs are addressed by name.
 */
import { fail } from '../../shared/index.js';
import type { ForeignClone } from '../endpoint.js';
import type { PveContext } from './context.js';

/** dns-name, the format of a VM's `name`. */
const DNS_NAME = /^(?=.{1,63}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

export function clonePart(x: PveContext): ForeignClone {
  return {
    clone: async (vm, newName, s, onProgress) => {
      if (!DNS_NAME.test(newName)) fail('INVALID_ARGUMENT', `"${newName}" cannot name a Proxmox VM: use a DNS name (letters, digits and "-", dot-separated, at most 63 characters)`);
      const r = await x.resolve(vm, s);
      if ((await x.rows(s)).some((row) => row.name === newName)) fail('VM_EXISTS', `Proxmox endpoint ${x.endpoint} already has a VM named "${newName}"`);
      const newid = Number(await x.client.get('/cluster/nextid', {}, s));
      if (!Number.isInteger(newid) || newid < 100) fail('ENDPOINT_PROTOCOL', `Proxmox endpoint ${x.endpoint} answered /cluster/nextid with ${String(newid)}`);
      await x.run(r, '/clone', { newid, name: newName, full: 1 }, `clone ${vm} to ${newName}`, s, onProgress);
      return x.describe({ ...r, vmid: newid, name: newName, status: 'stopped', lock: undefined }, s);
    },
  };
}
