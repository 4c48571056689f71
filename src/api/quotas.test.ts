/**
 * Role quotas and port-forward rules through the API (audit defects 10 and
 * 9): the caller's role reaches VmService through the request's caller
 * context, also inside an async operation. Stub driver (no QEMU: these
 * checks run before any process), real SQLite store.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../spec/index.js';
import { openStubStack, type StubStack } from '../../test/helpers/stub-stack.js';

const GIB = 1024 ** 3;
let stack: StubStack;
let kernel: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  stack = await openStubStack('quotas', {
    listener: 'tcp', rateLimitPerSecond: 10_000,
    quotas: { roles: { operator: { vms: 2, vcpus: 3, memoryBytes: 2 * GIB, vmVcpus: 2 } }, tokens: { 'op-b': { vms: 1 } } },
  });
  kernel = path.join(stack.dir, 'vmlinuz');
  await writeFile(kernel, 'not a kernel');
  for (const [name, role] of [['op-a', 'operator'], ['op-b', 'operator'], ['adm', 'admin']] as Array<[string, Role]>) {
    tokens[name] = (await stack.platform.tokens.create(name, role)).token;
  }
});
afterAll(() => stack?.close());

const call = (token: string, method: 'POST' | 'PUT' | 'GET', url: string, payload?: unknown) =>
  stack.api.app.inject({ method, url, headers: { authorization: `Bearer ${tokens[token]!}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
const spec = (name: string, cpus: number, memory: string, extra: Record<string, unknown> = {}) => ({ name, cpu: { count: cpus }, memory, boot: { kernel }, ...extra });

describe('role quotas through the API', () => {
  it('records the creator and refuses a create past the role limit, naming limit, use and request', async () => {
    expect((await call('op-a', 'POST', '/v1/vms', { spec: spec('a1', 2, '1Gi') })).statusCode).toBe(201);
    expect((await stack.store.getVm('a1'))?.owner).toEqual({ actor: 'op-a', role: 'operator' });
    const r = await call('op-a', 'POST', '/v1/vms', { spec: spec('a2', 2, '512Mi') });
    expect(r.statusCode).toBe(403);
    expect(r.json()).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      message: 'the operator role may own 3 vCPUs in all; its other VMs use 2 vCPUs and VM a2 asks 2 vCPUs (4 vCPUs together)',
      details: { scope: 'the operator role', limit: 'vcpus', max: 3, used: 2, requested: 2 },
      hint: expect.stringContaining('quotas'),
    });
    expect(await stack.store.getVm('a2')).toBeUndefined();
  });

  it('checks the per-VM ceiling and the per-token override', async () => {
    expect((await call('op-b', 'POST', '/v1/vms', { spec: spec('big', 3, '256Mi') })).json()).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { limit: 'vmVcpus' } });
    expect((await call('op-b', 'POST', '/v1/vms', { spec: spec('b1', 1, '256Mi') })).statusCode).toBe(201);
    // the role has room for a third vCPU but not op-b's token for a second VM
    expect((await call('op-b', 'POST', '/v1/vms', { spec: spec('b2', 1, '256Mi') })).json()).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { scope: 'token op-b', limit: 'vms', max: 1, used: 1 } });
  });

  it('refuses an edit that grows past a limit, allows one that does not', async () => {
    // operator VMs now: a1 (2 vCPUs, 1 GiB), b1 (1 vCPU, 256 MiB)
    expect((await call('op-a', 'PUT', '/v1/vms/a1', { spec: spec('a1', 2, '2Gi') })).json()).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { limit: 'memoryBytes' } });
    expect((await call('op-a', 'PUT', '/v1/vms/a1', { spec: spec('a1', 1, '512Mi') })).statusCode).toBe(200);
    expect((await stack.store.getVm('a1'))?.spec.memory).toBe(512 * 1024 ** 2);
  });

  it('counts a clone, also when it runs as an async operation, and the role VM count', async () => {
    const sync = await call('op-a', 'POST', '/v1/vms/a1/clone', { name: 'a1-copy' });
    expect(sync.json()).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { limit: 'vms', max: 2, used: 2 } });
    // admins have no limit by default; their VMs do not count for operators
    expect((await call('adm', 'POST', '/v1/vms', { spec: spec('adm1', 8, '4Gi') })).statusCode).toBe(201);
    expect((await stack.store.getVm('adm1'))?.owner).toEqual({ actor: 'adm', role: 'admin' });
    expect((await call('adm', 'POST', '/v1/vms/a1/clone?async=true', { name: 'adm-copy' })).statusCode).toBe(202);
    const op = await call('op-a', 'POST', '/v1/vms/adm1/clone?async=true', { name: 'adm1-copy', spec: spec('adm1-copy', 1, '256Mi') });
    expect(op.statusCode).toBe(202);
    const id = (op.json() as { id: string }).id;
    let view: { status: string; error?: { code: string } } = { status: 'running' };
    for (let i = 0; i < 100 && view.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      view = (await call('op-a', 'GET', `/v1/operations/${id}`)).json();
    }
    expect(view).toMatchObject({ status: 'failed', error: { code: 'QUOTA_EXCEEDED' } });
  });
});

describe('port forwards by role (audit defect 9)', () => {
  const fwd = (hostAddress: string, hostPort: number) => ({ networks: [{ portForwards: [{ hostAddress, hostPort, guestPort: 22 }] }] });

  it('refuses operators a non-loopback address or a privileged port, and allows them to admins', async () => {
    const r = await call('op-b', 'PUT', '/v1/vms/b1', { spec: spec('b1', 1, '256Mi', fwd('0.0.0.0', 22)) });
    expect(r.statusCode).toBe(403);
    expect(r.json()).toMatchObject({
      code: 'PORT_FORWARD_NOT_ALLOWED',
      details: [{ field: 'networks.0.portForwards.0.hostAddress' }, { field: 'networks.0.portForwards.0.hostPort' }],
    });
    expect((await call('op-b', 'PUT', '/v1/vms/b1', { spec: spec('b1', 1, '256Mi', fwd('127.0.0.1', 2222)) })).statusCode).toBe(200);
    expect((await call('adm', 'PUT', '/v1/vms/adm1', { spec: spec('adm1', 8, '4Gi', fwd('0.0.0.0', 22)) })).statusCode).toBe(200);
  });
});
