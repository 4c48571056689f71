import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PolyvisorError } from '../shared/index.js';
import { refuseOutsideReferences } from './image-refs.js';
import { imageInfo } from './qemu-img.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-refs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const descriptor = (extent: string) => `# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\nRW 1 FLAT "${extent}" 0\n`;
const refusal = async (file: string) => {
  try {
    refuseOutsideReferences(file, await imageInfo(file));
    return undefined;
  } catch (e) {
    return e as PolyvisorError;
  }
};

describe('imported images read no other host file (audit defect 12)', () => {
  it('a vmdk descriptor whose extent is /etc/hostname is refused, naming it', async () => {
    const f = path.join(dir, 'evil.vmdk');
    writeFileSync(f, descriptor('/etc/hostname'));
    const e = await refusal(f);
    expect(e?.code).toBe('IMAGE_INVALID');
    expect(e?.message).toContain('/etc/hostname');
  });

  it('a qcow2 with a backing file is refused; a plain qcow2 and a descriptor with its extent beside it pass', async () => {
    const base = path.join(dir, 'base.qcow2');
    const top = path.join(dir, 'top.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', base, '1M']);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', top]);
    expect((await refusal(top))?.message).toMatch(/has a backing file/);
    expect(await refusal(base)).toBeUndefined();
    writeFileSync(path.join(dir, 'flat-flat.img'), Buffer.alloc(512));
    writeFileSync(path.join(dir, 'ok.vmdk'), descriptor('flat-flat.img'));
    expect(await refusal(path.join(dir, 'ok.vmdk'))).toBeUndefined();
  });
});
