/**
 * Snapshots as qemu-server keeps them: a tree (each snapshot names its
 * parent; the config's `parent` is the snapshot the VM runs from, shown as
 * the pseudo-entry "current"), RAM kept when `vmstate` is set on a running VM.
 */
import { fail } from '../../shared/index.js';
import type { ForeignSnapshot, ForeignSnapshots } from '../endpoint.js';
import type { PveContext } from './context.js';

/** pve-configid, as the schema wants snapshot names (and at most 40 characters). */
const SNAPNAME = /^[A-Za-z][A-Za-z0-9_-]{1,39}$/;

interface Row {
  name?: unknown;
  parent?: unknown;
  snaptime?: unknown;
  description?: unknown;
  vmstate?: unknown;
}

export function snapshotsOf(data: unknown): ForeignSnapshot[] {
  const rows = (Array.isArray(data) ? data : []) as Row[];
  const here = rows.find((r) => r.name === 'current');
  const current = typeof here?.parent === 'string' ? here.parent : null;
  return rows
    .filter((r) => typeof r.name === 'string' && r.name !== 'current')
    .map((r) => ({
      name: r.name as string,
      parent: typeof r.parent === 'string' ? r.parent : null,
      createdAt: typeof r.snaptime === 'number' && r.snaptime > 0 ? new Date(r.snaptime * 1000).toISOString() : null,
      description: typeof r.description === 'string' ? r.description.trimEnd() : '',
      memory: r.vmstate === 1 || r.vmstate === true,
      current: r.name === current,
    }))
    .sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || a.name.localeCompare(b.name));
}

export function snapshotsPart(x: PveContext): ForeignSnapshots {
  return {
    list: async (vm, s) => {
      const r = await x.resolve(vm, s);
      return snapshotsOf(await x.client.get(x.path(r, '/snapshot'), {}, s));
    },
    create: async (vm, snap, s, onProgress) => {
      if (!snapshotNameOk(snap.name)) {
        fail('INVALID_ARGUMENT', `"${snap.name}" cannot name a Proxmox snapshot: use 2-40 letters, digits, "-" and "_", starting with a letter ("current" and "pending" are reserved)`);
      }
      const r = await x.resolve(vm, s);
      if (snap.memory) {
        const now = await x.describe(r, s);
        if (now.state !== 'running' && now.state !== 'paused') {
          fail('INVALID_TRANSITION', `a snapshot with RAM needs ${vm} running or paused (it is ${now.state}); Proxmox would silently keep the disks only`);
        }
      }
      await x.run(r, '/snapshot', { snapname: snap.name, description: snap.description, vmstate: snap.memory ? 1 : undefined }, `snapshot ${vm}@${snap.name}`, s, onProgress);
    },
    revert: async (vm, name, s, onProgress) => {
      const r = await x.resolve(vm, s);
      await x.run(r, `/snapshot/${encodeURIComponent(name)}/rollback`, {}, `rollback ${vm}@${name}`, s, onProgress);
    },
    remove: async (vm, name, s, onProgress) => {
      const r = await x.resolve(vm, s);
      const upid = await x.client.del(x.path(r, `/snapshot/${encodeURIComponent(name)}`), {}, s);
      await x.follow(upid, `delete snapshot ${vm}@${name}`, s, onProgress);
    },
  };
}

export function snapshotNameOk(name: string): boolean {
  return SNAPNAME.test(name) && name !== 'current' && name.toLowerCase() !== 'pending';
}
