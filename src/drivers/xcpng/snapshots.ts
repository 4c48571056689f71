/**
 * Snapshots as XAPI keeps them: each is a VM record (is_a_snapshot, its
 * snapshot_of the VM) with copies of the VM's disks. They form a tree
 * through `parent` (a snapshot's parent is the one the VM ran from when it
 * was taken; the VM's own parent is the snapshot it runs from now, marked
 * current). VM.snapshot keeps disks; VM.checkpoint (a running VM) keeps RAM
 * too, and a revert to it leaves the VM suspended, so the driver resumes it.
 * XAPI lets snapshots share a name; Polyvisor addresses them by name, so a
 * second of the same name is refused (SNAPSHOT_EXISTS). Deleting destroys
 * the snapshot's VM record and then its disks (VM.destroy leaves VDIs
 * behind, as Xen Orchestra also does by hand).
 */
import { fail } from '../../shared/index.js';
import type { ForeignSnapshot, ForeignSnapshots } from '../endpoint.js';
import type { XcpContext } from './context.js';
import { NULL_REF, type Ref, type VbdRecord, type VmRecord } from './records.js';

/** XAPI datetimes: "20241201T10:00:00Z" (or ISO 8601). */
export function xapiTime(s: string | undefined): string | null {
  if (!s) return null;
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2}):(\d{2}):(\d{2})Z?$/.exec(s);
  const iso = m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : s;
  const t = Date.parse(iso);
  return Number.isNaN(t) || t <= 0 ? null : new Date(t).toISOString();
}

export function snapshotsOf(vm: VmRecord, all: Record<Ref, VmRecord>): ForeignSnapshot[] {
  const mine = new Set(vm.snapshots.filter((r) => all[r]));
  return [...mine].map((ref) => {
    const s = all[ref]!;
    return {
      name: s.name_label,
      parent: s.parent !== NULL_REF && mine.has(s.parent) ? all[s.parent]!.name_label : null,
      createdAt: xapiTime(s.snapshot_time),
      description: s.name_description ?? '',
      memory: s.power_state === 'Suspended',
      current: vm.parent === ref,
    };
  }).sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || a.name.localeCompare(b.name));
}

export function snapshotsPart(x: XcpContext): ForeignSnapshots {
  const find = async (vm: string, name: string, s: AbortSignal): Promise<{ vmRef: Ref; ref: Ref; snap: VmRecord }> => {
    const { ref: vmRef, rec } = await x.resolve(vm, s);
    const all = await x.allVms(s);
    const hits = rec.snapshots.filter((r) => all[r]?.name_label === name);
    if (hits.length === 0) fail('SNAPSHOT_NOT_FOUND', `${vm} on XCP-ng endpoint ${x.endpoint} has no snapshot named ${name}`);
    if (hits.length > 1) fail('INVALID_ARGUMENT', `${vm} has ${hits.length} snapshots named ${name} on XCP-ng (XAPI allows it): rename or delete one in Xen Orchestra or with xe`);
    return { vmRef, ref: hits[0]!, snap: all[hits[0]!]! };
  };
  return {
    list: async (vm, s) => {
      const { rec } = await x.resolve(vm, s);
      return snapshotsOf(rec, await x.allVms(s));
    },
    create: async (vm, snap, s, onProgress) => {
      if (!/^[^\s/][^/]{0,79}$/.test(snap.name)) fail('INVALID_ARGUMENT', `"${snap.name}" cannot name a snapshot: 1-80 characters, no "/", not starting with a space`);
      const { ref, rec } = await x.resolve(vm, s);
      const all = await x.allVms(s);
      if (rec.snapshots.some((r) => all[r]?.name_label === snap.name)) fail('SNAPSHOT_EXISTS', `${vm} already has a snapshot named ${snap.name}`);
      if (snap.memory && rec.power_state !== 'Running') {
        fail('INVALID_TRANSITION', `a snapshot with RAM (a checkpoint) needs ${vm} running (it is ${rec.power_state.toLowerCase()})`);
      }
      await x.run(snap.memory ? 'VM.checkpoint' : 'VM.snapshot', [ref, snap.name], `snapshot ${vm}@${snap.name}`, s, onProgress);
    },
    revert: async (vm, name, s, onProgress) => {
      const { vmRef, ref, snap } = await find(vm, name, s);
      await x.run('VM.revert', [ref], `revert ${vm} to ${name}`, s, onProgress);
      if (snap.power_state === 'Suspended') await x.run('VM.resume', [vmRef, false, false], `resume ${vm} from ${name}`, s);
    },
    remove: async (vm, name, s) => {
      const { ref, snap } = await find(vm, name, s);
      const vbds = (await x.client.call('VBD.get_all_records', [], s, 'reading disks')) as Record<Ref, VbdRecord>;
      const vdis = snap.VBDs.map((b) => vbds[b]).filter((b): b is VbdRecord => b !== undefined && b.type === 'Disk' && b.VDI !== NULL_REF).map((b) => b.VDI);
      await x.client.call('VM.destroy', [ref], s, `delete snapshot ${vm}@${name}`);
      for (const vdi of vdis) await x.client.call('VDI.destroy', [vdi], s, `delete a disk of snapshot ${vm}@${name}`);
    },
  };
}
