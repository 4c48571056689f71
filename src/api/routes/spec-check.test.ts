/**
 * POST /v1/specs/validate: the problems a create would answer, without
 * creating anything — the same messages as a refused POST /v1/vms, the name
 * taken, the path rules of a non-admin before any file is looked at, and the
 * files a spec names; authorized like a create.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../spec/index.js';
import { SpecPathPolicy } from '../../storage/index.js';
import { openFullStubStack, type FullStubStack } from '../../../test/helpers/full-stub-stack.js';
import { checkSpec } from './spec-check.js';

let stack: FullStubStack;
let dir: string;
const tokens: Partial<Record<Role, string>> = {};

beforeAll(async () => {
  stack = await openFullStubStack('spec-check');
  dir = await mkdtemp(path.join(tmpdir(), 'pv-spec-check-'));
  for (const role of ['admin', 'operator', 'viewer'] as const) tokens[role] = (await stack.platform.tokens.create(`t-${role}`, role)).token;
});
afterAll(async () => {
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const call = (url: string, role: Role | undefined, body: unknown) =>
  stack.api.app.inject({ method: 'POST', url, headers: role ? { authorization: `Bearer ${tokens[role]!}` } : {}, payload: body as Record<string, unknown> });

describe('POST /v1/specs/validate', () => {
  it('lists the same fields and messages a refused create answers, and creates nothing', async () => {
    const bad = { name: 'web-1', memory: '12x', cpu: { count: 0 } };
    const created = await call('/v1/vms', 'operator', { spec: bad });
    expect(created.statusCode).toBe(400);
    const want = (created.json() as { details: Array<{ field: string; message: string }> }).details;
    expect(want.map((d) => d.field).sort()).toEqual(['cpu.count', 'memory']);
    const r = await call('/v1/specs/validate', 'operator', { spec: bad });
    expect(r.statusCode).toBe(200);
    const v = r.json() as { valid: boolean; problems: Array<{ field: string; message: string; code: string }>; spec: unknown };
    expect(v.valid).toBe(false);
    expect(v.spec).toBeNull();
    expect(v.problems).toEqual(want.map((d) => ({ field: d.field, message: d.message, code: 'SPEC_INVALID' })));
    expect(await stack.service.find('web-1')).toBeUndefined();
  });

  it('a good spec is valid, with every default filled in; a taken name is VM_EXISTS on the name field', async () => {
    const ok = await call('/v1/specs/validate', 'operator', { spec: { name: 'fresh', memory: '64Mi', disks: [{ name: 'root', size: '8Mi' }] } });
    expect(ok.json()).toMatchObject({ valid: true, problems: [], spec: { name: 'fresh', memory: 64 * 2 ** 20, cpu: { count: 1 }, machine: { type: 'q35' } } });
    expect(await stack.service.find('fresh')).toBeUndefined();
    await stack.service.create((ok.json() as { spec: never }).spec);
    const taken = await call('/v1/specs/validate', 'operator', { spec: { name: 'fresh', memory: '64Mi', disks: [{ name: 'root', size: '8Mi' }] } });
    expect(taken.json()).toMatchObject({ valid: false, problems: [{ field: 'name', code: 'VM_EXISTS', message: 'a VM named fresh already exists' }] });
    expect((await call('/v1/vms', 'operator', { spec: { name: 'fresh', disks: [{ name: 'root', size: '8Mi' }] } })).json()).toMatchObject({ code: 'VM_EXISTS', message: 'a VM named fresh already exists' });
  });

  it('a document that is not a spec at all is one problem on the whole spec', async () => {
    const r = await call('/v1/specs/validate', 'operator', { spec: 'name: x' });
    expect(r.json()).toMatchObject({ valid: false, problems: [{ field: '(root)', code: 'SPEC_INVALID' }], spec: null });
  });

  it('is authorized like a create: a viewer is refused, no token is 401, an unknown body field is INVALID_BODY', async () => {
    expect((await call('/v1/specs/validate', undefined, { spec: {} })).statusCode).toBe(401);
    const viewer = await call('/v1/specs/validate', 'viewer', { spec: { name: 'x' } });
    expect(viewer.statusCode).toBe(403);
    const extra = await call('/v1/specs/validate', 'admin', { spec: { name: 'x' }, other: 1 });
    expect(extra.statusCode).toBe(400);
    expect(extra.json()).toMatchObject({ code: 'INVALID_BODY' });
  });

  it('path rules first for a non-admin (nothing about the file is revealed), then the files an admin names', async () => {
    const pool = path.join(dir, 'pool');
    const policy = new SpecPathPolicy({ poolDirs: () => Promise.resolve([pool]), libraryDir: path.join(dir, 'lib'), vmsDir: path.join(dir, 'vms'), extraRoots: [] });
    const deps = { service: { find: () => Promise.resolve(undefined) }, pathPolicy: policy };
    const spec = { name: 'k', boot: { kernel: '/nonexistent/vmlinuz' }, disks: [{ name: 'root', path: '/etc/hostname-nope.qcow2' }] };
    const op = await checkSpec(spec, { admin: false }, deps);
    expect(op.problems).toEqual([
      { field: 'disks.0.path', code: 'PATH_NOT_ALLOWED', message: '/etc/hostname-nope.qcow2 is outside the folders your role may use' },
      { field: 'boot.kernel', code: 'PATH_NOT_ALLOWED', message: '/nonexistent/vmlinuz is outside the folders your role may use' },
    ]);
    const admin = await checkSpec(spec, { admin: true }, deps);
    expect(admin.problems).toEqual([
      { field: 'disks.0.path', code: 'FILE_NOT_FOUND', message: 'disk root: /etc/hostname-nope.qcow2 does not exist' },
      { field: 'boot.kernel', code: 'FILE_NOT_FOUND', message: 'boot.kernel /nonexistent/vmlinuz does not exist or is not a file' },
    ]);
    const kernel = path.join(dir, 'vmlinuz');
    await writeFile(kernel, 'k');
    expect(await checkSpec({ name: 'k', boot: { kernel } }, { admin: true }, deps)).toMatchObject({ valid: true, problems: [] });
  });
});
