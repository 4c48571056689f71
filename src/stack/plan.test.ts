import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { planText, type VmState } from '../spec/index.js';
import { planStack, type ActualState } from './plan.js';
import { resolveStack } from './resolve.js';
import { ownedBy, vmOwner } from './ownership.js';

const boot = { boot: { kernel: '/k' } };
const file = {
  name: 'shop',
  networks: { back: { mode: 'isolated', subnet: '10.9.0.0/24' } },
  volumes: { data: { size: '1Gi' } },
  vms: {
    db: { spec: { ...boot, memory: '256Mi', disks: [{ name: 'd0', size: '1Gi' }] } },
    app: { spec: { ...boot, memory: '256Mi' }, depends_on: ['db'] },
    web: { count: 2, spec: boot, depends_on: ['app'] },
  },
};
const desired = resolveStack(file);
/** Reality exactly as the file says, every VM in `state`. */
function reality(state: VmState = 'running'): ActualState {
  return {
    vms: desired.vms.map((v) => ({ name: v.name, spec: v.spec, state })),
    networks: [{ name: 'back', owned: true, config: { name: 'back', mode: 'isolated', bridge: 'pvbr-back', subnet: '10.9.0.0/24', gateway: '10.9.0.1', dhcpRange: null, dnsDomain: null, uplink: null, vlan: null } }],
    volumes: [{ pool: 'default', name: 'data', sizeBytes: 1024 ** 3, format: 'qcow2', owned: true }],
  };
}

describe('stack planner', () => {
  it('creates everything on an empty host, in dependency order', () => {
    const p = planStack(desired, { vms: [], networks: [], volumes: [] });
    expect(p.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([
      'create network back', 'create volume data', 'create vm db', 'create vm app', 'create vm web-1', 'create vm web-2',
    ]);
    expect(p.summary.create).toBe(6);
    expect(planText(p)).toBe([
      '+   network back: create', '      why: no network of this name exists',
      '+   volume data: create', '      why: no volume data in pool default',
      '+   vm db: create', '      why: no VM of this name exists',
      '+   vm app: create', '      why: no VM of this name exists',
      '+   vm web-1 (member web): create', '      why: no VM of this name exists',
      '+   vm web-2 (member web): create', '      why: no VM of this name exists',
      '',
      'Plan for stack shop: 6 to create, 0 to update in place, 0 to update with restart, 0 to replace, 0 to delete, 0 to start, 0 unchanged.',
    ].join('\n'));
  });

  it('plans nothing when reality is the file', () => {
    const p = planStack(desired, reality());
    expect(p.changes.every((c) => c.action === 'noop')).toBe(true);
    expect(planText(p)).toBe('Plan for stack shop: 0 to create, 0 to update in place, 0 to update with restart, 0 to replace, 0 to delete, 0 to start, 6 unchanged.\nNothing to do: the stack is as its file says.');
  });

  it('a memory change of a running VM is an update with restart, of that VM alone, naming the field', () => {
    const more = resolveStack({ ...file, vms: { ...file.vms, app: { ...file.vms.app, spec: { ...boot, memory: '512Mi' } } } });
    const p = planStack(more, reality());
    expect(p.changes.filter((c) => c.action !== 'noop')).toEqual([{
      kind: 'vm', member: 'app', name: 'app', action: 'update-restart',
      fields: [{ field: 'memory', from: '256Mi', to: '512Mi' }], reason: 'QEMU starts again to apply memory',
    }]);
    expect(planText(p)).toContain('~!  vm app: update with restart\n      why: QEMU starts again to apply memory\n      memory: 256Mi → 512Mi');
    // The same change to a stopped VM needs no restart: the spec is saved and it starts.
    const stopped = planStack(more, reality('stopped')).changes.find((c) => c.name === 'app')!;
    expect(stopped.action).toBe('update');
  });

  it('labels and description change in place; disks replace; a stopped VM starts', () => {
    const edited = resolveStack({
      ...file,
      vms: {
        ...file.vms,
        app: { ...file.vms.app, spec: { ...boot, memory: '256Mi', description: 'the app' } },
        db: { spec: { ...boot, memory: '256Mi', disks: [{ name: 'd0', size: '2Gi' }] } },
      },
    });
    const now = reality();
    now.vms.find((v) => v.name === 'web-2')!.state = 'stopped';
    const p = planStack(edited, now);
    const by = Object.fromEntries(p.changes.map((c) => [c.name, c]));
    expect(by['app']!.action).toBe('update');
    expect(by['app']!.fields).toEqual([{ field: 'description', from: '', to: 'the app' }]);
    expect(by['db']!.action).toBe('replace');
    expect(by['db']!.fields[0]!.field).toBe('disks');
    expect(by['web-2']).toMatchObject({ action: 'start', reason: 'it is stopped' });
    expect(planText(p)).toContain('-/+ vm db: replace');
    expect(planText(p)).toContain('>   vm web-2 (member web): start');
  });

  it('deletes what the stack owns and the file no longer names; never a VM of another stack', () => {
    const fewer = resolveStack({ ...file, vms: { ...file.vms, web: { ...file.vms.web, count: 1 } }, networks: {}, volumes: {} });
    const now = reality();
    const outsider = { name: 'web-9', state: 'running' as const, spec: { ...now.vms[0]!.spec, name: 'web-9', labels: { 'polyvisor.stack': 'other' } } };
    now.vms.push(outsider);
    now.vms.push({ ...outsider, name: 'loose', spec: { ...outsider.spec, name: 'loose', labels: {} } });
    const p = planStack(fewer, now);
    expect(p.changes.filter((c) => c.action === 'delete').map((c) => `${c.kind} ${c.name}`)).toEqual(['vm web-2', 'volume data', 'network back']);
    expect(planText(p)).toContain('-   vm web-2 (member web): delete');
  });

  it('networks replace on a changed field; volumes grow in place and replace to shrink', () => {
    const changed = resolveStack({ ...file, networks: { back: { mode: 'isolated', subnet: '10.8.0.0/24' } }, volumes: { data: { size: '2Gi' } } });
    const p = planStack(changed, reality());
    const by = Object.fromEntries(p.changes.map((c) => [c.name, c]));
    expect(by['back']).toMatchObject({ action: 'replace', fields: [{ field: 'subnet', from: '10.9.0.0/24', to: '10.8.0.0/24' }] });
    expect(by['data']).toMatchObject({ action: 'update', fields: [{ field: 'size', from: '1Gi', to: '2Gi' }] });
    const smaller = resolveStack({ ...file, volumes: { data: { size: '512Mi' } } });
    expect(planStack(smaller, reality()).changes.find((c) => c.name === 'data')!.action).toBe('replace');
  });

  it('refuses a name held by a VM, network or volume outside the stack: nothing is planned', () => {
    const now = reality();
    now.vms[0] = { ...now.vms[0]!, spec: { ...now.vms[0]!.spec, labels: {} } };
    now.networks[0]!.owned = false;
    let err: unknown;
    try {
      planStack(desired, now);
    } catch (e) {
      err = e;
    }
    expect(isPolyvisorError(err, 'STACK_CONFLICT')).toBe(true);
    expect((err as Error).message).toBe('stack shop: VM db exists and is not the stack\'s (label polyvisor.stack=(none)); network back exists and is not the stack\'s');
  });
});

describe('ownership', () => {
  it('comes from the VM\'s labels; a VM without them belongs to no stack', () => {
    expect(vmOwner({ labels: { 'polyvisor.stack': 'shop', 'polyvisor.stack.member': 'web' } })).toEqual({ stack: 'shop', member: 'web' });
    expect(vmOwner({ labels: {} })).toBeNull();
    expect(ownedBy({ labels: { 'polyvisor.stack': 'shop' } }, 'shop')).toBe(true);
    expect(ownedBy({ labels: { 'polyvisor.stack': 'shopping' } }, 'shop')).toBe(false);
  });
});
