/** Audit defect 8: a viewer must not read cloud-init user-data, nor the serial log. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES } from '../shared/index.js';
import { validateSpec, type Role } from '../spec/index.js';
import { openStubStack, type StubStack } from '../../test/helpers/stub-stack.js';
import { REDACTED, redactForRole } from './redact.js';

const PLANTED = '#cloud-config\npassword: planted-Pa55-e81d';
let stack: StubStack;
const tokens: Partial<Record<Role, string>> = {};

beforeAll(async () => {
  stack = await openStubStack('redact', { listener: 'tcp', rateLimitPerSecond: 10_000 });
  for (const role of ROLES) tokens[role] = (await stack.platform.tokens.create(`t-${role}`, role)).token;
  const kernel = path.join(stack.dir, 'vmlinuz');
  await writeFile(kernel, 'not a kernel');
  await stack.service.create(validateSpec({ name: 'ci', boot: { kernel }, cloudInit: { userData: PLANTED } }));
});
afterAll(() => stack?.close());

const get = (url: string, role: Role) => stack.api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${tokens[role]!}` } });

describe('user-data redaction', () => {
  it('viewer: GET /v1/vms and /v1/vms/:name show cloudInit.userData redacted, the rest intact', async () => {
    for (const url of ['/v1/vms', '/v1/vms/ci']) {
      const r = await get(url, 'viewer');
      expect(r.statusCode).toBe(200);
      expect(r.body).not.toContain('planted-Pa55');
      expect(r.body).toContain(REDACTED);
      expect(r.body).toContain('"name":"ci"');
    }
  });

  it('operator and admin (vm:write) see it in full', async () => {
    for (const role of ['operator', 'admin'] as const) {
      const vm = (await get('/v1/vms/ci', role)).json() as { spec: { cloudInit: { userData: string } } };
      expect(vm.spec.cloudInit.userData).toBe(PLANTED);
    }
  });

  it('viewer: the serial log needs vm:console (403), an operator reads it', async () => {
    const r = await get('/v1/vms/ci/serial-log', 'viewer');
    expect(r.statusCode).toBe(403);
    expect(r.json()).toMatchObject({ code: 'FORBIDDEN' });
    expect((await get('/v1/vms/ci/serial-log', 'operator')).statusCode).toBe(200);
  });

  it('redacts nested specs (operation results) without touching the input', () => {
    const op = { result: { vm: { spec: { cloudInit: { userData: 'x', hostname: 'h' } } } }, list: [{ cloudInit: { userData: 'y' } }] };
    const out = redactForRole(op, 'viewer');
    expect(out.result.vm.spec.cloudInit).toEqual({ userData: REDACTED, hostname: 'h' });
    expect(out.list[0]!.cloudInit.userData).toBe(REDACTED);
    expect(op.result.vm.spec.cloudInit.userData).toBe('x');
    expect(redactForRole(op, 'operator')).toBe(op);
    expect(redactForRole(op, undefined).list[0]!.cloudInit.userData).toBe(REDACTED);
  });
});
