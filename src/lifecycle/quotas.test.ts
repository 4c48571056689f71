import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { validateSpec } from '../spec/index.js';
import type { VmRecord } from '../store/index.js';
import { checkQuota, defaultQuotas, footprintOf, type QuotaConfig } from './quotas.js';

const GIB = 1024 ** 3;
const spec = (name: string, cpus = 1, memory = '1Gi', extra: Record<string, unknown> = {}) =>
  validateSpec({ name, cpu: { count: cpus }, memory, boot: { kernel: '/k' }, ...extra });
const rec = (name: string, owner: VmRecord['owner'], cpus = 1, memory = '1Gi'): VmRecord => ({
  id: name, name, spec: spec(name, cpus, memory), state: 'stopped', stateReason: '', host: 'h', runtime: null,
  ...(owner ? { owner } : {}), createdAt: '', updatedAt: '', generation: 1,
});
const op = { actor: 'alice', role: 'operator' as const };
const quotas: QuotaConfig = { roles: { operator: { vms: 3, vcpus: 6, memoryBytes: 4 * GIB, vmVcpus: 4, vmMemoryBytes: 2 * GIB } }, tokens: { alice: { vms: 2 } } };

function refusal(f: () => void): { message: string; details: unknown } {
  try {
    f();
  } catch (err) {
    if (isPolyvisorError(err) && err.code === 'QUOTA_EXCEEDED') return { message: err.message, details: err.details };
    throw err;
  }
  throw new Error('expected QUOTA_EXCEEDED');
}

describe('role quotas', () => {
  const vms = [rec('a', op, 2, '1Gi'), rec('b', { actor: 'bob', role: 'operator' }, 2, '2Gi'), rec('adm', { actor: 'local', role: 'admin' }, 8, '8Gi'), rec('old', undefined, 8, '8Gi')];

  it('counts only the VMs the role owns, and names the limit, the use and the request', () => {
    // operator VMs: a (2 vCPUs, 1 GiB) and b (2, 2 GiB); the admin's and the ownerless VM do not count.
    expect(() => checkQuota({ caller: op, quotas, vms, spec: spec('c', 2, '1Gi') })).not.toThrow();
    const r = refusal(() => checkQuota({ caller: op, quotas, vms, spec: spec('c', 3, '1Gi') }));
    expect(r.message).toContain('the operator role may own 6 vCPUs');
    expect(r.message).toContain('use 4 vCPUs');
    expect(r.message).toContain('asks 3 vCPUs');
    expect(r.details).toEqual({ scope: 'the operator role', limit: 'vcpus', max: 6, used: 4, requested: 3 });
    const m = refusal(() => checkQuota({ caller: op, quotas, vms, spec: spec('c', 1, '1536Mi') }));
    expect(m.details).toMatchObject({ limit: 'memoryBytes', used: 3 * GIB, requested: 1.5 * GIB });
  });

  it('counts VMs per role and per token', () => {
    const three = [...vms, rec('c', { actor: 'carol', role: 'operator' }, 1, '256Mi')];
    expect(refusal(() => checkQuota({ caller: { actor: 'dave', role: 'operator' }, quotas, vms: three, spec: spec('d', 1, '256Mi') })).details).toMatchObject({ limit: 'vms', max: 3, used: 3 });
    // alice's token may own 2; she owns a.
    const two = [rec('a', op, 1, '256Mi'), rec('a2', op, 1, '256Mi')];
    expect(refusal(() => checkQuota({ caller: op, quotas, vms: two, spec: spec('a3', 1, '256Mi') })).details).toMatchObject({ scope: 'token alice', limit: 'vms', used: 2 });
  });

  it('has a per-VM ceiling', () => {
    expect(refusal(() => checkQuota({ caller: op, quotas, vms: [], spec: spec('big', 5, '1Gi') })).details).toMatchObject({ limit: 'vmVcpus', max: 4, requested: 5 });
    expect(refusal(() => checkQuota({ caller: op, quotas, vms: [], spec: spec('big', 1, '3Gi') })).details).toMatchObject({ limit: 'vmMemoryBytes' });
  });

  it('counts a VM at its hotplug ceilings', () => {
    const s = spec('h', 1, '1Gi', { cpu: { count: 1, max: 4 } });
    expect(footprintOf(s)).toEqual({ vcpus: 4, memoryBytes: GIB });
  });

  it('lets an edit through unless it grows past a limit', () => {
    const a = vms[0]!;
    // same size, or smaller: fine even with the role at its limit
    const full = [...vms, rec('c', op, 2, '1Gi')];
    expect(() => checkQuota({ caller: op, quotas, vms: full, spec: spec('a', 2, '1Gi'), replacing: a })).not.toThrow();
    expect(() => checkQuota({ caller: op, quotas, vms: full, spec: spec('a', 1, '512Mi'), replacing: a })).not.toThrow();
    // growing a by one vCPU: 2 (b) + 2 (c) + 3 = 7 > 6
    expect(refusal(() => checkQuota({ caller: op, quotas, vms: full, spec: spec('a', 3, '1Gi'), replacing: a })).details).toMatchObject({ limit: 'vcpus', used: 4, requested: 3 });
  });

  it('leaves callers without a limit, and the daemon itself, unchecked', () => {
    const many = Array.from({ length: 100 }, (_, i) => rec(`v${i}`, { actor: 'local', role: 'admin' }, 8, '8Gi'));
    expect(() => checkQuota({ caller: { actor: 'local', role: 'admin' }, quotas, vms: many, spec: spec('x', 256, '4Ti') })).not.toThrow();
    expect(() => checkQuota({ caller: undefined, quotas, vms: vms, spec: spec('x', 256, '4Ti') })).not.toThrow();
  });

  it('defaults bound operators by the host and leave admins unlimited', () => {
    const d = defaultQuotas({ cpus: 2, memoryBytes: 24 * GIB });
    expect(d.roles.admin).toBeUndefined();
    expect(d.roles.operator).toEqual({ vms: 64, vcpus: 8, memoryBytes: 48 * GIB, vmVcpus: 2, vmMemoryBytes: 24 * GIB });
    // audit defect 10's request: 4 TiB and 256 vCPUs from an operator token
    expect(refusal(() => checkQuota({ caller: op, quotas: d, vms: [], spec: spec('huge', 256, '4Ti') })).details).toMatchObject({ limit: 'vmVcpus' });
  });
});
