/**
 * What the fake's VM messages do to the pool, with XAPI's refusals
 * (datamodel_vm.ml lists each message's errors): power operations move
 * power_state along XAPI's lifecycle and refuse the wrong state with
 * VM_BAD_POWER_STATE [vm, expected, actual]; snapshots copy the VM's VDIs
 * and chain through `parent` (the VM's parent is the snapshot it was last
 * taken or reverted from); pool_migrate moves a running VM to another host
 * of the pool; set_memory_limits keeps static_min ≤ dynamic_min ≤
 * dynamic_max ≤ static_max.
 */
import { randomUUID } from 'node:crypto';
import { XapiFault } from './faults.js';
import { NULL_REF, type PoolDb, type Rec } from './state.js';

export type Handler = (db: PoolDb, args: unknown[]) => Promise<unknown>;

const stamp = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

function vmOf(db: PoolDb, ref: unknown): Rec {
  const r = typeof ref === 'string' ? db.get('VM', ref) : undefined;
  if (!r) throw new XapiFault('HANDLE_INVALID', ['VM', String(ref)]);
  return r;
}

function needPower(vm: string, r: Rec, ...want: string[]): void {
  if (r['is_a_template'] === true) throw new XapiFault('VM_IS_TEMPLATE', [vm]);
  if (!want.includes(r['power_state'] as string)) throw new XapiFault('VM_BAD_POWER_STATE', [vm, want[0]!.toLowerCase(), String(r['power_state']).toLowerCase()]);
}

function setResident(db: PoolDb, vm: string, host: string): void {
  const r = db.get('VM', vm)!;
  const old = r['resident_on'] as string;
  if (old !== NULL_REF && db.get('host', old)) db.mod('host', old, { resident_VMs: (db.get('host', old)!['resident_VMs'] as string[]).filter((x) => x !== vm) });
  if (host !== NULL_REF) db.mod('host', host, { resident_VMs: [...(db.get('host', host)!['resident_VMs'] as string[]), vm] });
  db.mod('VM', vm, { resident_on: host });
}

function power(db: PoolDb, vm: string, state: string, host?: string): void {
  const r = db.get('VM', vm)!;
  const running = state !== 'Halted' && state !== 'Suspended';
  const target = running ? host ?? (r['resident_on'] !== NULL_REF ? (r['resident_on'] as string) : masterOf(db)) : NULL_REF;
  if (target !== r['resident_on']) setResident(db, vm, target);
  db.mod('VM', vm, { power_state: state, domid: running ? 7 : -1, domarch: running ? 'x64' : '' });
  const m = r['metrics'] as string;
  if (db.get('VM_metrics', m)) db.mod('VM_metrics', m, { memory_actual: running ? r['memory_dynamic_max'] : 0, VCPUs_number: running ? r['VCPUs_at_startup'] : 0, last_updated: stamp(), ...(state === 'Running' && r['power_state'] === 'Halted' ? { start_time: stamp() } : {}) });
}

function masterOf(db: PoolDb): string {
  return [...db.table('pool').values()][0]!['master'] as string;
}

const diskVbds = (db: PoolDb, vm: Rec): Rec[] => (vm['VBDs'] as string[]).map((b) => db.get('VBD', b)!).filter((b) => b && b['type'] === 'Disk' && b['VDI'] !== NULL_REF);

/** A copy of `src` (a snapshot or a clone) with copies of its disks and its NICs. */
async function copyVm(db: PoolDb, srcRef: string, fields: Rec, snapshotDisks: boolean): Promise<string> {
  const src = db.get('VM', srcRef)!;
  const metrics = db.add('VM_metrics', {});
  const ref = db.add('VM', { ...structuredClone(src), uuid: randomUUID(), VBDs: [], VIFs: [], snapshots: [], children: [], metrics, resident_on: NULL_REF, domid: -1, domarch: '', ...fields });
  for (const b of (src['VBDs'] as string[]).map((x) => db.get('VBD', x)!)) {
    const vdi = b['VDI'] !== NULL_REF ? await db.copyVdi(b['VDI'] as string, snapshotDisks) : NULL_REF;
    const vbd = db.add('VBD', { ...structuredClone(b), uuid: randomUUID(), VM: ref, VDI: vdi, currently_attached: false });
    if (vdi !== NULL_REF) db.mod('VDI', vdi, { VBDs: [vbd] });
    db.mod('VM', ref, { VBDs: [...(db.get('VM', ref)!['VBDs'] as string[]), vbd] });
  }
  for (const v of (src['VIFs'] as string[]).map((x) => db.get('VIF', x)!)) db.vif(ref, v['network'] as string, v['device'] as string, v['MAC'] as string);
  return ref;
}

async function takeSnapshot(db: PoolDb, vm: string, name: unknown, withMemory: boolean): Promise<string> {
  const r = vmOf(db, vm);
  if (r['is_a_snapshot'] === true) throw new XapiFault('OPERATION_NOT_ALLOWED', ['cannot snapshot a snapshot']);
  if (withMemory) needPower(vm, r, 'Running');
  const snap = await copyVm(db, vm, {
    name_label: String(name), is_a_snapshot: true, snapshot_of: vm, snapshot_time: stamp(), parent: r['parent'],
    power_state: withMemory ? 'Suspended' : 'Halted',
  }, true);
  db.mod('VM', vm, { snapshots: [...(r['snapshots'] as string[]), snap], parent: snap });
  const parent = r['parent'] as string;
  if (db.get('VM', parent)) db.mod('VM', parent, { children: [...(db.get('VM', parent)!['children'] as string[]), snap] });
  return snap;
}

async function destroyVm(db: PoolDb, self: string): Promise<void> {
  const r = vmOf(db, self);
  if (r['is_control_domain'] === true) throw new XapiFault('OPERATION_NOT_ALLOWED', ['cannot destroy a control domain']);
  if (r['is_a_snapshot'] !== true) needPower(self, r, 'Halted');
  for (const b of r['VBDs'] as string[]) {
    const vdi = db.get('VBD', b)?.['VDI'] as string | undefined;
    if (vdi && db.get('VDI', vdi)) db.mod('VDI', vdi, { VBDs: (db.get('VDI', vdi)!['VBDs'] as string[]).filter((x) => x !== b) });
    db.del('VBD', b);
  }
  for (const v of r['VIFs'] as string[]) db.del('VIF', v);
  const of = r['snapshot_of'] as string;
  if (db.get('VM', of)) db.mod('VM', of, { snapshots: (db.get('VM', of)!['snapshots'] as string[]).filter((x) => x !== self) });
  for (const [ref, v] of db.table('VM')) if (v['parent'] === self) db.mod('VM', ref, { parent: r['parent'] });
  db.del('VM_metrics', r['metrics'] as string);
  db.del('VM', self);
}

async function revert(db: PoolDb, snapRef: string): Promise<void> {
  const snap = vmOf(db, snapRef);
  if (snap['is_a_snapshot'] !== true) throw new XapiFault('VM_REVERT_FAILED', [snapRef, 'not a snapshot']);
  const vm = snap['snapshot_of'] as string;
  const r = vmOf(db, vm);
  if (r['power_state'] !== 'Halted') power(db, vm, 'Halted');
  // The VM's disks are replaced by copies of the snapshot's (its old VDIs are destroyed), by userdevice.
  const byDev = new Map(diskVbds(db, snap).map((b) => [b['userdevice'], b['VDI'] as string]));
  for (const b of (r['VBDs'] as string[])) {
    const vbd = db.get('VBD', b)!;
    const from = byDev.get(vbd['userdevice']);
    if (vbd['type'] !== 'Disk' || !from) continue;
    const old = vbd['VDI'] as string;
    const copy = await db.copyVdi(from, false);
    db.mod('VDI', copy, { VBDs: [b], name_label: db.get('VDI', old)?.['name_label'] ?? '' });
    db.mod('VBD', b, { VDI: copy });
    await db.destroyVdi(old);
  }
  db.mod('VM', vm, {
    parent: snapRef, VCPUs_max: snap['VCPUs_max'], VCPUs_at_startup: snap['VCPUs_at_startup'],
    memory_static_max: snap['memory_static_max'], memory_dynamic_max: snap['memory_dynamic_max'], memory_dynamic_min: snap['memory_dynamic_min'],
  });
  if (snap['power_state'] === 'Suspended') db.mod('VM', vm, { power_state: 'Suspended' });
}

export const VM_HANDLERS: Record<string, Handler> = {
  'VM.start': async (db, [vm, paused]) => {
    needPower(vm as string, vmOf(db, vm), 'Halted');
    power(db, vm as string, paused === true ? 'Paused' : 'Running');
  },
  'VM.resume': async (db, [vm, paused]) => {
    needPower(vm as string, vmOf(db, vm), 'Suspended');
    power(db, vm as string, paused === true ? 'Paused' : 'Running');
  },
  'VM.clean_shutdown': async (db, [vm]) => {
    needPower(vm as string, vmOf(db, vm), 'Running');
    power(db, vm as string, 'Halted');
  },
  'VM.hard_shutdown': async (db, [vm]) => {
    needPower(vm as string, vmOf(db, vm), 'Running', 'Paused', 'Suspended');
    power(db, vm as string, 'Halted');
  },
  'VM.clean_reboot': async (db, [vm]) => needPower(vm as string, vmOf(db, vm), 'Running'),
  'VM.hard_reboot': async (db, [vm]) => needPower(vm as string, vmOf(db, vm), 'Running', 'Paused'),
  'VM.pause': async (db, [vm]) => {
    needPower(vm as string, vmOf(db, vm), 'Running');
    power(db, vm as string, 'Paused');
  },
  'VM.unpause': async (db, [vm]) => {
    needPower(vm as string, vmOf(db, vm), 'Paused');
    power(db, vm as string, 'Running');
  },
  'VM.suspend': async (db, [vm]) => {
    needPower(vm as string, vmOf(db, vm), 'Running');
    power(db, vm as string, 'Suspended');
  },
  'VM.snapshot': (db, [vm, name]) => takeSnapshot(db, vm as string, name, false),
  'VM.checkpoint': (db, [vm, name]) => takeSnapshot(db, vm as string, name, true),
  'VM.revert': (db, [snap]) => revert(db, snap as string),
  'VM.clone': async (db, [vm, name]) => {
    const r = vmOf(db, vm);
    needPower(vm as string, r, 'Halted');
    return copyVm(db, vm as string, { name_label: String(name), is_a_snapshot: false, snapshot_of: NULL_REF, parent: NULL_REF, power_state: 'Halted' }, false);
  },
  'VM.destroy': (db, [self]) => destroyVm(db, self as string),
  'VM.pool_migrate': async (db, [vm, host]) => {
    const r = vmOf(db, vm);
    if (!db.get('host', host as string)) throw new XapiFault('HANDLE_INVALID', ['host', String(host)]);
    needPower(vm as string, r, 'Running');
    if (r['resident_on'] === host) throw new XapiFault('HOST_NOT_ENOUGH_FREE_MEMORY', ['0', '0']); // XAPI refuses a migration to the host the VM is on
    setResident(db, vm as string, host as string);
  },
  'VM.set_VCPUs_max': async (db, [self, value]) => {
    const r = vmOf(db, self);
    needPower(self as string, r, 'Halted');
    const n = Number(value);
    if (n < 1 || n > 64) throw new XapiFault('VALUE_NOT_SUPPORTED', ['VCPUs_max', String(value), 'must be between 1 and 64']);
    if (n < (r['VCPUs_at_startup'] as number)) throw new XapiFault('VALUE_NOT_SUPPORTED', ['VCPUs_max', String(value), 'must not be below VCPUs_at_startup']);
    db.mod('VM', self as string, { VCPUs_max: n });
  },
  'VM.set_VCPUs_at_startup': async (db, [self, value]) => {
    const r = vmOf(db, self);
    const n = Number(value);
    if (n < 1 || n > (r['VCPUs_max'] as number)) throw new XapiFault('VALUE_NOT_SUPPORTED', ['VCPUs_at_startup', String(value), 'must be between 1 and VCPUs_max']);
    db.mod('VM', self as string, { VCPUs_at_startup: n });
  },
  'VM.set_memory_limits': async (db, [self, smin, smax, dmin, dmax]) => {
    const r = vmOf(db, self);
    needPower(self as string, r, 'Halted');
    const [a, b, c, d] = [smin, dmin, dmax, smax].map(Number) as [number, number, number, number];
    if (!(a <= b && b <= c && c <= d) || a < 16 * 1024 * 1024) {
      throw new XapiFault('MEMORY_CONSTRAINT_VIOLATION', ['Memory limits must satisfy: static_min <= dynamic_min <= dynamic_max <= static_max']);
    }
    db.mod('VM', self as string, { memory_static_min: a, memory_dynamic_min: b, memory_dynamic_max: c, memory_static_max: d });
  },
  'VDI.destroy': async (db, [self]) => {
    const r = db.get('VDI', self as string);
    if (!r) throw new XapiFault('HANDLE_INVALID', ['VDI', String(self)]);
    if ((r['VBDs'] as string[]).some((b) => db.get('VBD', b))) throw new XapiFault('VDI_IN_USE', [String(self), 'destroy']);
    await db.destroyVdi(self as string);
  },
};

/** The host an async VM operation runs on (for the task's resident_on). */
export function hostOfCall(db: PoolDb, args: unknown[]): string {
  const r = typeof args[0] === 'string' ? db.get('VM', args[0]) : undefined;
  return (r?.['resident_on'] as string | undefined) && r!['resident_on'] !== NULL_REF ? (r!['resident_on'] as string) : masterOf(db);
}

/** While an async operation runs, the VM shows it in current_operations (XAPI's lock). */
export function markBusy(db: PoolDb, vm: unknown, task: string, op: string, busy: boolean): void {
  const r = typeof vm === 'string' ? db.get('VM', vm) : undefined;
  if (!r) return;
  const ops = { ...(r['current_operations'] as Record<string, string>) };
  if (busy) ops[task] = op;
  else delete ops[task];
  db.mod('VM', vm as string, { current_operations: ops });
}
