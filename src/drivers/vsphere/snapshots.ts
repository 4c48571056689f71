/**
 * The snapshot tree: the VM's `snapshot` property (rootSnapshotList with
 * childSnapshotList below, currentSnapshot) flattened to ForeignSnapshot rows
 * with their parents; CreateSnapshot_Task (memory on a running VM keeps RAM),
 * RevertToSnapshot_Task, RemoveSnapshot_Task (children kept, disks
 * consolidated). Snapshots are addressed by name; vSphere allows repeats, the
 * driver refuses to create one (SNAPSHOT_EXISTS) and to guess between them.
 */
import { PolyvisorError } from '../../shared/index.js';
import type { ForeignSnapshot, ForeignSnapshots } from '../endpoint.js';
import type { Inventory } from './inventory.js';
import type { Properties } from './property-collector.js';
import type { SoapClient } from './soap-client.js';
import { asArray, ref, text, type MoRef, type Node } from './soap-envelope.js';
import { runTask } from './tasks.js';

export interface SnapshotRow extends ForeignSnapshot {
  ref: MoRef;
  /** Power state of the VM when it was taken (poweredOn: the snapshot holds RAM). */
  powerState: string | null;
}

/** The `snapshot` property → rows, parents before children. Pure. */
export function flattenTree(snapshot: unknown): SnapshotRow[] {
  if (!snapshot || typeof snapshot !== 'object') return [];
  const info = snapshot as Node;
  const current = ref(info.currentSnapshot)?.value ?? null;
  const out: SnapshotRow[] = [];
  const walk = (nodes: unknown, parent: string | null): void => {
    for (const n of asArray<Node>(nodes)) {
      const r = ref(n.snapshot);
      if (!r) continue;
      const state = text(n.state);
      const name = text(n.name) ?? r.value;
      out.push({
        name,
        parent,
        createdAt: text(n.createTime),
        description: text(n.description) ?? '',
        memory: state === 'poweredOn' || state === 'suspended',
        current: r.value === current,
        ref: r,
        powerState: state,
      });
      walk(n.childSnapshotList, name);
    }
  };
  walk(info.rootSnapshotList, null);
  return out;
}

export function snapshotsPart(soap: SoapClient, props: Properties, inv: Inventory): ForeignSnapshots {
  const rows = async (vm: string, signal: AbortSignal): Promise<{ self: MoRef; rows: SnapshotRow[] }> => {
    const self = await inv.resolve(vm, signal);
    const p = await props.one(self, ['snapshot'], signal, vm);
    return { self, rows: flattenTree(p.snapshot) };
  };
  const find = async (vm: string, name: string, signal: AbortSignal): Promise<{ self: MoRef; row: SnapshotRow }> => {
    const { self, rows: all } = await rows(vm, signal);
    const hits = all.filter((r) => r.name === name);
    if (hits.length === 0) throw new PolyvisorError('SNAPSHOT_NOT_FOUND', `VM ${vm} has no snapshot named "${name}"`);
    if (hits.length > 1) throw new PolyvisorError('INVALID_ARGUMENT', `VM ${vm} has ${hits.length} snapshots named "${name}" (made outside Polyvisor); rename one in vSphere first`);
    return { self, row: hits[0]! };
  };
  return {
    list: async (vm, signal) => (await rows(vm, signal)).rows.map(({ ref: _r, powerState: _p, ...row }) => row),
    create: async (vm, snap, signal, onProgress) => {
      const { self, rows: all } = await rows(vm, signal);
      if (all.some((r) => r.name === snap.name)) throw new PolyvisorError('SNAPSHOT_EXISTS', `VM ${vm} already has a snapshot named "${snap.name}"`);
      await runTask(soap, props, 'CreateSnapshot_Task', self,
        { name: snap.name, description: snap.description ?? '', memory: snap.memory, quiesce: false },
        { signal, vm, what: `snapshot ${snap.name}`, onProgress });
    },
    revert: async (vm, name, signal, onProgress) => {
      const { self, row } = await find(vm, name, signal);
      await runTask(soap, props, 'RevertToSnapshot_Task', row.ref, {}, { signal, vm, what: `revert to ${name}`, onProgress });
      // A snapshot with RAM comes back running (vCenter powers it on; vcsim, a simulator, leaves the power
      // state as it was: the driver completes the revert there).
      if (row.powerState === 'poweredOn') {
        const now = text((await props.one(self, ['runtime.powerState'], signal, vm))['runtime.powerState']);
        if (now !== 'poweredOn') await runTask(soap, props, 'PowerOnVM_Task', self, {}, { signal, vm, what: 'power on after revert' });
      }
    },
    remove: async (vm, name, signal, onProgress) => {
      const { row } = await find(vm, name, signal);
      await runTask(soap, props, 'RemoveSnapshot_Task', row.ref, { removeChildren: false, consolidate: true },
        { signal, vm, what: `remove snapshot ${name}`, onProgress });
    },
  };
}
