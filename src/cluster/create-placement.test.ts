import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { validateSpec, type HostView } from '../spec/index.js';
import type { VmRecord } from '../store/index.js';
import { checkNamedHost, placeNewVm } from './create-placement.js';
import { SingleHost } from './hosts-service.js';
import { explainPlacement } from './schedule-explain.js';
import { DEFAULT_POLICY, resolvePolicy } from './scheduler/index.js';

const GiB = 1024 ** 3;
const disk = { disks: [{ name: 'root', size: '1Gi' }] };

function hostView(name: string, over: Partial<HostView> = {}): HostView {
  return {
    name, state: 'ready', capacity: { cpus: 8, memoryBytes: 8 * GiB, diskBytes: 100 * GiB }, allocated: { cpus: 0, memoryBytes: 0, diskBytes: 0 },
    vms: 0, pool: '', version: 't', since: '2026-12-05T00:00:00Z', leaseAgeSeconds: 1, self: false, ...over,
  };
}

function running(name: string, host: string, memory: string): VmRecord {
  return {
    id: `id-${name}`, name, spec: validateSpec({ ...disk, name, memory }), state: 'running', stateReason: '', host, runtime: null,
    createdAt: '2026-12-05T00:00:00Z', updatedAt: '2026-12-05T00:00:00Z', generation: 1,
  };
}

function caught(fn: () => unknown): { code: string; message: string; details: unknown } {
  try {
    fn();
  } catch (err) {
    if (isPolyvisorError(err)) return { code: err.code, message: err.message, details: err.details };
    throw err;
  }
  throw new Error('did not throw');
}

const hosts = [hostView('h1'), hostView('h2'), hostView('h3', { state: 'cordoned' })];
const vms = [running('a', 'h1', '6Gi'), running('b', 'h2', '1Gi')];

describe('placing a new VM (vm create --host)', () => {
  it('auto takes the scheduler\'s choice: pack fills the host in use that still fits, spread the emptiest', () => {
    const spec = validateSpec({ ...disk, name: 'n', memory: '1Gi' });
    expect(placeNewVm({ spec, want: 'auto', hosts, vms, policy: DEFAULT_POLICY }).host).toBe('h1');
    expect(placeNewVm({ spec, want: 'auto', hosts, vms, policy: resolvePolicy({ mode: 'spread' }) }).host).toBe('h2');
    // 3 GiB no longer fits h1 (2 GiB free): the next best.
    expect(placeNewVm({ spec: validateSpec({ ...disk, name: 'n', memory: '3Gi' }), want: 'auto', hosts, vms, policy: DEFAULT_POLICY }).host).toBe('h2');
  });

  it('a VM that fits nowhere names every host and the filter that refused it, in schedule explain\'s words', () => {
    const e = caught(() => placeNewVm({ spec: validateSpec({ ...disk, name: 'big', memory: '8Gi' }), want: 'auto', hosts, vms, policy: DEFAULT_POLICY }));
    expect(e.code).toBe('NO_HOST_FITS');
    expect(e.message).toBe('no host fits VM big: h1 refused by memory: needs 8 GiB memory, 2 GiB free of 8 GiB (8 GiB × overcommit 1); '
      + 'h2 refused by memory: needs 8 GiB memory, 7 GiB free of 8 GiB (8 GiB × overcommit 1); h3 refused by state: host is cordoned; only ready hosts take new VMs');
    expect(e.details).toMatchObject({ vm: 'big', hosts: [{ host: 'h1', filter: 'memory' }, { host: 'h2', filter: 'memory' }, { host: 'h3', filter: 'state' }] });
    expect(caught(() => placeNewVm({ spec: validateSpec({ ...disk, name: 'x' }), want: 'auto', hosts: [], vms: [], policy: DEFAULT_POLICY })).message).toBe('no host fits VM x: the cluster has no hosts');
  });

  it('a named host is used when it passes the filters (even if another scores better), refused with its reason otherwise', () => {
    const spec = validateSpec({ ...disk, name: 'n', memory: '1Gi' });
    expect(placeNewVm({ spec, want: 'h2', hosts, vms, policy: DEFAULT_POLICY }).host).toBe('h2');
    const cordoned = caught(() => placeNewVm({ spec, want: 'h3', hosts, vms, policy: DEFAULT_POLICY }));
    expect(cordoned).toMatchObject({ code: 'NO_HOST_FITS', message: 'host h3 cannot take VM n: refused by state: host is cordoned; only ready hosts take new VMs (the scheduler would choose h1)' });
    const full = caught(() => placeNewVm({ spec: validateSpec({ ...disk, name: 'n', memory: '3Gi' }), want: 'h1', hosts, vms, policy: DEFAULT_POLICY }));
    expect(full.message).toMatch(/^host h1 cannot take VM n: refused by memory: needs 3 GiB memory, 2 GiB free/);
    expect(caught(() => placeNewVm({ spec, want: 'h9', hosts, vms, policy: DEFAULT_POLICY }))).toMatchObject({ code: 'HOST_NOT_FOUND', message: expect.stringContaining('hosts: h1, h2, h3') });
    expect(caught(() => placeNewVm({ spec: validateSpec({ ...disk, name: 'b' }), want: 'auto', hosts, vms, policy: DEFAULT_POLICY }))).toMatchObject({ code: 'VM_EXISTS', message: 'a VM named b already exists (on host h2)' });
  });

  it('naming a host overrides the VM\'s pool preference (the tier filter), not a restriction to its pool', () => {
    const pooled = [hostView('gold1', { pool: 'gold' }), hostView('plain')];
    const prefers = validateSpec({ ...disk, name: 'n', ha: { group: 'gold' } });
    expect(placeNewVm({ spec: prefers, want: 'auto', hosts: pooled, vms: [], policy: DEFAULT_POLICY }).host).toBe('gold1');
    expect(placeNewVm({ spec: prefers, want: 'plain', hosts: pooled, vms: [], policy: DEFAULT_POLICY }).host).toBe('plain');
    const only = validateSpec({ ...disk, name: 'n', ha: { group: 'gold', restricted: true } });
    expect(caught(() => placeNewVm({ spec: only, want: 'plain', hosts: pooled, vms: [], policy: DEFAULT_POLICY })).message).toMatch(/refused by pool/);
  });
});

describe('a named host for an existing VM (vm migrate --to-host)', () => {
  it('passes when every filter but the tier passes, and names the refusing filter otherwise', () => {
    const x = explainPlacement({ name: 'a', spec: vms[0]!.spec, hosts, vms, policy: DEFAULT_POLICY });
    expect(checkNamedHost(x, 'h2', '')).toBe('h2');
    expect(caught(() => checkNamedHost(x, 'h3', ''))).toMatchObject({ code: 'NO_HOST_FITS', message: expect.stringMatching(/^host h3 cannot take VM a: refused by state/) });
  });
});

describe('vm create --host on a single host', () => {
  it('auto and the host\'s own name are this host; another name is refused', async () => {
    const one = new SingleHost({ name: 'solo', version: 't', diskBytes: 100 * GiB, vms: async () => [] });
    const spec = validateSpec({ ...disk, name: 'n' });
    expect((await one.place(spec, 'auto')).host).toBe('solo');
    expect((await one.place(spec, 'solo')).host).toBe('solo');
    await expect(one.place(spec, 'h2')).rejects.toMatchObject({ code: 'HOST_NOT_FOUND', message: expect.stringMatching(/runs on one host, solo; there is no host h2/) });
  });
});
