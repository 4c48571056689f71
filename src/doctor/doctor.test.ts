import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fix, parseVersion, type DoctorDeps } from './index.js';
import { networkChecks, parseTcpMem } from './network-checks.js';

describe('doctor helpers', () => {
  it('reads QEMU and qemu-img versions', () => {
    expect(parseVersion('QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)')).toEqual([7, 2, 19]);
    expect(parseVersion('qemu-img version 9.0.0 (v9.0.0)')).toEqual([9, 0, 0]);
    expect(parseVersion('nothing')).toBeNull();
  });

  it('prints fix commands the way a user would type them', () => {
    expect(fix('polyvisor', 'disk', 'detach', 'web', 'data').command).toBe('polyvisor disk detach web data');
    expect(fix('rm', '-r', '--', "/tmp/a b/it's").command).toBe(`rm -r -- '/tmp/a b/it'\\''s'`);
    expect(fix('kill', '42').argv).toEqual(['kill', '42']);
  });
});

describe('migration-buffers check', () => {
  const made: string[] = [];
  afterAll(async () => {
    for (const d of made) await rm(d, { recursive: true, force: true });
  });
  const deps = async (rmem: string | null): Promise<DoctorDeps> => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pv-procsys-'));
    made.push(dir);
    if (rmem !== null) {
      await mkdir(path.join(dir, 'net', 'ipv4'), { recursive: true });
      await writeFile(path.join(dir, 'net', 'ipv4', 'tcp_rmem'), rmem);
    }
    return { procSysDir: dir } as DoctorDeps;
  };

  it('says nothing more than ok for the kernel default, and offers the default back when a host raised it', async () => {
    expect(parseTcpMem('4096\t131072\t6291456\n')).toEqual([4096, 131072, 6291456]);
    expect(parseTcpMem('4096 x 1')).toBeNull();
    expect(await networkChecks(await deps('4096\t131072\t6291456\n'))).toMatchObject([{ check: 'migration-buffers', severity: 'ok', fix: null }]);
    const [f] = await networkChecks(await deps('4096\t131072\t33554432\n'));
    expect(f).toMatchObject({ severity: 'info', subject: 'net.ipv4.tcp_rmem', message: expect.stringContaining('32 MiB') });
    expect(f!.fix!.argv).toEqual(['sysctl', '-w', 'net.ipv4.tcp_rmem=4096 131072 6291456']);
    expect(f!.fix!.command).toBe(`sysctl -w 'net.ipv4.tcp_rmem=4096 131072 6291456'`);
    expect(await networkChecks(await deps(null))).toEqual([]);
  });
});
