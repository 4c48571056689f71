import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PolyvisorError } from '../shared/index.js';
import { SpecPathPolicy, isInside, specHostPaths } from './path-policy.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'pv-paths-'));
const pool = path.join(tmp, 'pool');
const library = path.join(tmp, 'library');
const vms = path.join(tmp, 'vms');
const extra = path.join(tmp, 'extra');
const outside = path.join(tmp, 'outside');
for (const d of [pool, library, path.join(vms, 'web'), extra, outside]) mkdirSync(d, { recursive: true });
writeFileSync(path.join(pool, 'a.qcow2'), '');
writeFileSync(path.join(outside, 'secret'), '');
symlinkSync(path.join(outside, 'secret'), path.join(pool, 'link.qcow2'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const policy = new SpecPathPolicy({ poolDirs: async () => [pool], libraryDir: library, vmsDir: vms, extraRoots: [extra] });
const spec = (disks: string[], boot: { kernel?: string; initrd?: string } = {}) => ({ name: 'web', disks: disks.map((p, i) => ({ name: `d${i}`, path: p })), boot });
const refusal = async (p: Promise<void>): Promise<PolyvisorError | undefined> => p.then(() => undefined, (e: unknown) => e as PolyvisorError);

describe('which host files a spec may name (audit defect 2)', () => {
  it('lists every disk path, kernel and initrd with its field', () => {
    expect(specHostPaths(spec(['/a', '/b'], { kernel: '/k', initrd: '/i' }))).toEqual([
      { field: 'disks[0].path', path: '/a' }, { field: 'disks[1].path', path: '/b' }, { field: 'boot.kernel', path: '/k' }, { field: 'boot.initrd', path: '/i' },
    ]);
    expect(specHostPaths('not a spec')).toEqual([]);
    expect(specHostPaths({ disks: [{ size: '1Gi' }] })).toEqual([]);
  });

  it('isInside: the root itself and below, never a sibling with the same prefix', () => {
    expect(isInside('/srv/pool', '/srv/pool')).toBe(true);
    expect(isInside('/srv/pool', '/srv/pool/a/b')).toBe(true);
    expect(isInside('/srv/pool', '/srv/pool2/a')).toBe(false);
    expect(isInside('/srv/pool', '/srv/a')).toBe(false);
  });

  it('a non-admin may use pools, the library, the VM directory and pathRoots, including files not made yet', async () => {
    await policy.check(spec([path.join(pool, 'a.qcow2'), path.join(library, 'x.iso'), path.join(vms, 'web', 'disks', 'root.qcow2'), path.join(extra, 'k')]), { admin: false, vmName: 'web' });
  });

  it('refuses host files elsewhere with PATH_NOT_ALLOWED, the same words whether the file exists or not', async () => {
    const there = await refusal(policy.check(spec(['/etc/shadow']), { admin: false, vmName: 'web' }));
    const notThere = await refusal(policy.check(spec(['/etc/no-such-file-here']), { admin: false, vmName: 'web' }));
    expect(there?.code).toBe('PATH_NOT_ALLOWED');
    expect(notThere?.code).toBe('PATH_NOT_ALLOWED');
    expect(there?.message.replace('/etc/shadow', 'X')).toBe(notThere?.message.replace('/etc/no-such-file-here', 'X'));
  });

  it("refuses another VM's directory, a link out of a pool, and names every field", async () => {
    const e = await refusal(policy.check(spec([path.join(vms, 'other', 'disks', 'root.qcow2'), path.join(pool, 'link.qcow2')], { kernel: '/boot/vmlinuz' }), { admin: false, vmName: 'web' }));
    expect(e?.code).toBe('PATH_NOT_ALLOWED');
    expect((e?.details as { field: string }[]).map((d) => d.field)).toEqual(['disks[0].path', 'disks[1].path', 'boot.kernel']);
  });

  it('an admin may name any file', async () => {
    await policy.check(spec(['/etc/shadow'], { kernel: '/boot/vmlinuz' }), { admin: true, vmName: 'web' });
  });
});
