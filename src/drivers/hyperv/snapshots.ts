/**
 * Checkpoints through Msvm_VirtualSystemSnapshotService: CreateSnapshot (a
 * full checkpoint, SnapshotType 2), then the new checkpoint (the VM's
 * current one once the job ends) renamed with ModifySystemSettings, as
 * Hyper-V names them "VM - (date)"; ApplySnapshot; DestroySnapshot (Hyper-V
 * merges it: its children take its parent). Checkpoints are snapshot
 * settings (Msvm_VirtualSystemSettingData of type Snapshot:Realized) whose
 * Parent links make a tree; the VM's own settings' Parent is the checkpoint
 * it runs from.
 */
import { fail } from '../../shared/index.js';
import type { ForeignSnapshot, ForeignSnapshots } from '../endpoint.js';
import { embedded, pathKey, str, type CimInstance } from './cim.js';
import { vmRef, type Found, type HvContext } from './context.js';

const SNAPSHOT_SERVICE = 'Msvm_VirtualSystemSnapshotService';
/** Hyper-V allows 100 characters in a checkpoint name; Polyvisor's snapshot names are kept simpler. */
const SNAPNAME = /^[A-Za-z0-9][A-Za-z0-9 _.()-]{0,99}$/;

/** CIM datetime yyyymmddHHMMSS.mmmmmm+UUU → ISO. */
export function cimDateIso(v: string | null): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.(\d{3})\d{3}([+-])(\d{3})$/.exec(v ?? '');
  if (!m) return null;
  const t = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!) - (m[8] === '+' ? 1 : -1) * Number(m[9]) * 60_000;
  return new Date(t).toISOString();
}

const snapRef = (instanceId: string): { cls: string; keys: Record<string, string> } => ({ cls: 'Msvm_VirtualSystemSettingData', keys: { InstanceID: instanceId } });

export function snapshotsPart(x: HvContext): ForeignSnapshots {
  const read = async (f: Found, signal: AbortSignal): Promise<{ snaps: CimInstance[]; current: string | null }> => {
    const [snaps, own] = await Promise.all([
      f.host.client.query(`SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType = "Microsoft:Hyper-V:Snapshot:Realized" AND VirtualSystemIdentifier = "${f.guid}"`, signal),
      f.host.client.query(`SELECT * FROM Msvm_VirtualSystemSettingData WHERE InstanceID = "Microsoft:${f.guid}"`, signal),
    ]);
    return { snaps, current: pathKey(own[0] ? str(own[0], 'Parent') : null, 'InstanceID') };
  };
  const byName = async (vm: string, name: string, signal: AbortSignal): Promise<{ f: Found; id: string }> => {
    const f = await x.find(vm, signal);
    const hits = (await read(f, signal)).snaps.filter((s) => str(s, 'ElementName') === name);
    if (hits.length === 0) fail('SNAPSHOT_NOT_FOUND', `${vm} on Hyper-V endpoint ${x.endpoint} has no checkpoint named "${name}"`);
    if (hits.length > 1) fail('INVALID_ARGUMENT', `${vm} has ${hits.length} checkpoints named "${name}": rename one in Hyper-V Manager`);
    return { f, id: str(hits[0]!, 'InstanceID')! };
  };
  const service = (f: Found, s: AbortSignal) => f.host.service(SNAPSHOT_SERVICE, s);
  return {
    list: async (vm, s): Promise<ForeignSnapshot[]> => {
      const f = await x.find(vm, s);
      const { snaps, current } = await read(f, s);
      const names = new Map(snaps.map((i) => [str(i, 'InstanceID'), str(i, 'ElementName') ?? '']));
      return snaps.map((i) => ({
        name: str(i, 'ElementName') ?? '',
        parent: names.get(pathKey(str(i, 'Parent'), 'InstanceID')) ?? null,
        createdAt: cimDateIso(str(i, 'CreationTime')),
        description: str(i, 'Notes') ?? '',
        memory: false,
        current: str(i, 'InstanceID') === current,
      })).sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || a.name.localeCompare(b.name));
    },
    create: async (vm, snap, s, onProgress) => {
      if (!SNAPNAME.test(snap.name)) fail('INVALID_ARGUMENT', `"${snap.name}" cannot name a Hyper-V checkpoint here: use 1-100 letters, digits, spaces and . _ ( ) -, starting with a letter or digit`);
      if (snap.memory) fail('CAPABILITY_NOT_SUPPORTED', 'the Hyper-V driver takes checkpoints without RAM (snapshot.memory is not supported)', { details: { driver: 'hyperv', capability: 'snapshot.memory' } });
      const f = await x.find(vm, s);
      if ((await read(f, s)).snaps.some((i) => str(i, 'ElementName') === snap.name)) fail('SNAPSHOT_EXISTS', `${vm} already has a checkpoint named "${snap.name}"`);
      await x.run(f.host, await service(f, s), 'CreateSnapshot', { AffectedSystem: vmRef(f.guid), SnapshotType: 2 }, `checkpoint ${vm}`, s, onProgress);
      const made = (await read(f, s)).current;
      if (!made) fail('ENDPOINT_PROTOCOL', `Hyper-V endpoint ${x.endpoint} made a checkpoint of ${vm} but its settings name none as current`);
      const settings = embedded('Msvm_VirtualSystemSettingData', { InstanceID: { type: 'string', value: made }, ElementName: { type: 'string', value: snap.name } });
      try {
        await x.run(f.host, await f.host.service('Msvm_VirtualSystemManagementService', s), 'ModifySystemSettings', { SystemSettings: settings }, `name checkpoint ${vm}@${snap.name}`, s);
      } catch (err) {
        // A checkpoint Polyvisor cannot name would be one nobody can address: it goes again.
        await x.run(f.host, await service(f, s), 'DestroySnapshot', { AffectedSnapshot: snapRef(made) }, `remove unnamed checkpoint of ${vm}`, AbortSignal.timeout(x.timing.jobTimeoutMs)).catch(() => undefined);
        throw err;
      }
    },
    revert: async (vm, name, s, onProgress) => {
      const { f, id } = await byName(vm, name, s);
      await x.run(f.host, await service(f, s), 'ApplySnapshot', { Snapshot: snapRef(id) }, `apply checkpoint ${vm}@${name}`, s, onProgress);
    },
    remove: async (vm, name, s, onProgress) => {
      const { f, id } = await byName(vm, name, s);
      await x.run(f.host, await service(f, s), 'DestroySnapshot', { AffectedSnapshot: snapRef(id) }, `delete checkpoint ${vm}@${name}`, s, onProgress);
    },
  };
}
