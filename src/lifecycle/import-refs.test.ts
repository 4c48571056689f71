/** A volume import refuses an image that reads other host files (audit defect 12), through the API. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFullStubStack, type FullStubStack } from '../../test/helpers/full-stub-stack.js';

let stack: FullStubStack;
const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-import-'));
beforeAll(async () => {
  stack = await openFullStubStack('import-refs', 'unix');
});
afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('volume import', () => {
  it('of a vmdk descriptor whose extent is /etc/hostname: 400 IMAGE_INVALID naming it, and no volume', async () => {
    const evil = path.join(dir, 'evil.vmdk');
    writeFileSync(evil, '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\nRW 1 FLAT "/etc/hostname" 0\n');
    const r = await stack.api.app.inject({ method: 'POST', url: '/v1/pools/default/volumes', payload: { name: 'stolen', importPath: evil } });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: 'IMAGE_INVALID', message: expect.stringContaining('/etc/hostname') });
    const list = await stack.api.app.inject({ method: 'GET', url: '/v1/pools/default/volumes' });
    expect((list.json() as { name: string }[]).map((v) => v.name)).not.toContain('stolen');
  });
});
