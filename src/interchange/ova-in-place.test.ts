/**
 * OVA members read in place with real qemu-img and GNU tar: a member's image
 * probed at its offset, refused when it would read another host file (a
 * qcow2 backing file or external data file, a VMDK descriptor whose extent is
 * /etc/hostname), or when it is not the format the descriptor names; the
 * digest of a member's byte range; `alongside` reporting the failure that
 * stopped the other task.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { isPolyvisorError, PolyvisorError } from '../shared/index.js';
import { alongside, memberDigests, probeMember, qcow2HasDataFile } from './ova-in-place.js';
import { listTar, type TarMember } from './tar-read.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-inplace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A tar of `files` (in `dir`) behind a small first member, so the images do not start at offset 512. */
async function packed(name: string, files: string[]): Promise<{ tar: string; members: Map<string, TarMember> }> {
  writeFileSync(path.join(dir, 'a.ovf'), 'x'.repeat(700));
  const tar = path.join(dir, `${name}.ova`);
  execFileSync('tar', ['--format=ustar', '-cf', tar, '-C', dir, 'a.ovf', ...files]);
  return { tar, members: new Map((await listTar(tar)).map((m) => [m.name, m])) };
}
const refusal = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

describe('OVA members in place', () => {
  it('probes a VMDK and a qcow2 member at their offsets; a member of another format than declared is refused', async () => {
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(dir, 'd.qcow2'), '3M']);
    execFileSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'vmdk', '-o', 'subformat=streamOptimized', path.join(dir, 'd.qcow2'), path.join(dir, 'd.vmdk')]);
    const { tar, members } = await packed('ok', ['d.vmdk', 'd.qcow2']);
    expect(members.get('d.vmdk')!.offset).toBeGreaterThan(512);
    expect(await probeMember(tar, members.get('d.vmdk')!, 'vmdk')).toBe(3 * 1024 ** 2);
    expect(await probeMember(tar, members.get('d.qcow2')!, 'qcow2')).toBe(3 * 1024 ** 2);
    const e = await refusal(probeMember(tar, members.get('d.qcow2')!, 'vmdk'));
    expect(isPolyvisorError(e, 'IMAGE_INVALID'), String(e)).toBe(true);
    expect((e as Error).message).toMatch(/d\.qcow2 was named as vmdk but is qcow2/);
  });

  it('refuses members that would read other host files: a backing file, an external data file, a VMDK extent elsewhere', async () => {
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(dir, 'base.qcow2'), '1M']);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', path.join(dir, 'base.qcow2'), '-F', 'qcow2', path.join(dir, 'top.qcow2')]);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'data_file=/etc/hostname', path.join(dir, 'data.qcow2'), '1M']);
    writeFileSync(path.join(dir, 'desc.vmdk'), '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\nRW 1 FLAT "/etc/hostname" 0\n');
    const { tar, members } = await packed('evil', ['top.qcow2', 'data.qcow2', 'desc.vmdk']);
    expect(qcow2HasDataFile(readFileSync(path.join(dir, 'data.qcow2')).subarray(0, 512))).toBe(true);
    expect(qcow2HasDataFile(readFileSync(path.join(dir, 'base.qcow2')).subarray(0, 512))).toBe(false);
    const cases: Array<[string, 'qcow2' | 'vmdk', RegExp]> = [
      ['top.qcow2', 'qcow2', /has a backing file/],
      ['data.qcow2', 'qcow2', /keeps its data in an external file/],
      ['desc.vmdk', 'vmdk', /extents read other files \(\/etc\/hostname\)/],
    ];
    for (const [name, format, message] of cases) {
      const e = await refusal(probeMember(tar, members.get(name)!, format));
      expect(isPolyvisorError(e, 'IMAGE_INVALID'), `${name}: ${String(e)}`).toBe(true);
      expect((e as Error).message, name).toMatch(message);
    }
  });

  it('hashes exactly the member\'s bytes', async () => {
    writeFileSync(path.join(dir, 'blob.bin'), Buffer.alloc(3 * 1024 * 1024 + 17, 7));
    const { tar, members } = await packed('blob', ['blob.bin']);
    const want = createHash('sha256').update(readFileSync(path.join(dir, 'blob.bin'))).digest('hex');
    expect(await memberDigests(tar, members.get('blob.bin')!, ['sha256', 'sha1'])).toEqual({
      sha256: want, sha1: createHash('sha1').update(readFileSync(path.join(dir, 'blob.bin'))).digest('hex'),
    });
  });

  it('alongside: the first failure stops the other task and is the one thrown', async () => {
    let stopped = false;
    const slow = (s: AbortSignal): Promise<void> => new Promise((_, reject) => s.addEventListener('abort', () => {
      stopped = true;
      reject(new PolyvisorError('ABORTED', 'stopped'));
    }));
    const e = await refusal(alongside(AbortSignal.timeout(10_000), slow, async () => {
      throw new PolyvisorError('CHECKSUM_MISMATCH', 'x.vmdk does not match');
    }));
    expect(isPolyvisorError(e, 'CHECKSUM_MISMATCH')).toBe(true);
    expect(stopped).toBe(true);
    await expect(alongside(AbortSignal.timeout(10_000), async () => 1, async () => 2)).resolves.toBeUndefined();
  });
});
