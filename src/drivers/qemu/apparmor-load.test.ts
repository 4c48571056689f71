/**
 * The AppArmor loader and the host probe. This host's kernel has no AppArmor,
 * so nothing can really be loaded here: the probe reads stand-in sysfs files
 * in a temporary folder, and the loader runs a stand-in apparmor_parser (a
 * shell script that records its argv and the profile it was given, and fails
 * when told to), which is what the loader's argv and file handling need.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateSpec } from '../../spec/index.js';
import { AppArmorLoader, probeAppArmor } from './apparmor-load.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-aa-load-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const ID = '0b6f7c1e-5d2a-4c8e-9f3b-7a1d2e3f4a5b';

async function fakeParser(behaviour: 'ok' | 'fail' | 'gone'): Promise<{ parser: string; calls: () => Promise<string[][]> }> {
  const log = path.join(dir, 'calls.log');
  const parser = path.join(dir, 'apparmor_parser');
  const exit = behaviour === 'ok' ? 'exit 0' : behaviour === 'gone' ? `echo "Profile doesn't exist" >&2; exit 1` : 'echo "AppArmor parser error at line 3: syntax error" >&2; exit 1';
  await writeFile(parser, `#!/bin/sh\nprintf '%s\\0' "$@" >> "${log}"\nprintf '\\n' >> "${log}"\n${exit}\n`);
  await chmod(parser, 0o755);
  return {
    parser,
    calls: async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => l.split('\0').filter(Boolean)),
  };
}

describe('probeAppArmor', () => {
  it('says what is missing: the kernel, securityfs, or the parser', async () => {
    const enabledFile = path.join(dir, 'enabled');
    const securityDir = path.join(dir, 'apparmor');
    expect(await probeAppArmor({ enabledFile, securityDir })).toMatchObject({ loadable: false, missing: 'kernel', reason: expect.stringContaining('has no AppArmor') });
    await writeFile(enabledFile, 'N\n');
    expect(await probeAppArmor({ enabledFile, securityDir })).toMatchObject({ loadable: false, missing: 'kernel', reason: expect.stringContaining('disabled') });
    await writeFile(enabledFile, 'Y\n');
    expect(await probeAppArmor({ enabledFile, securityDir })).toMatchObject({ loadable: false, missing: 'securityfs' });
    await mkdir(securityDir);
    await writeFile(path.join(securityDir, 'profiles'), '');
    expect(await probeAppArmor({ enabledFile, securityDir, parser: path.join(dir, 'no-such-parser') })).toMatchObject({ loadable: false, missing: 'parser' });
    const { parser } = await fakeParser('ok');
    expect(await probeAppArmor({ enabledFile, securityDir, parser })).toEqual({ loadable: true, parser });
  });

  it('on this host (no AppArmor in the kernel): not loadable, and says why', async () => {
    const r = await probeAppArmor();
    expect(r.loadable).toBe(false);
  });
});

describe('AppArmorLoader', () => {
  const input = { vmId: ID, spec: validateSpec({ name: 'web', boot: { kernel: '/srv/vmlinuz' } }), vmDir: `/var/lib/polyvisor/vms/${ID}`, qemuBinary: '/usr/bin/qemu-system-x86_64', accel: 'tcg' as const };

  it('writes the profile 0600 and loads it with apparmor_parser -r (argv, no shell); unloads with -R and removes the file', async () => {
    const p = await fakeParser('ok');
    const loader = new AppArmorLoader({ dir: path.join(dir, 'profiles'), parser: p.parser });
    expect(await loader.load(input)).toBe(`polyvisor-${ID}`);
    const file = loader.fileOf(ID);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toContain(`profile polyvisor-${ID} `);
    await loader.unload(ID);
    expect(await p.calls()).toEqual([['-r', '--', file], ['-R', '--', file]]);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    await loader.unload(ID); // nothing loaded: nothing run
    expect(await p.calls()).toHaveLength(2);
  });

  it('a refused profile is APPARMOR_FAILED with the parser\'s words', async () => {
    const p = await fakeParser('fail');
    const loader = new AppArmorLoader({ dir: path.join(dir, 'profiles'), parser: p.parser });
    await expect(loader.load(input)).rejects.toMatchObject({ code: 'APPARMOR_FAILED', message: expect.stringContaining('syntax error') });
    await expect(loader.unload(ID)).rejects.toMatchObject({ code: 'APPARMOR_FAILED' });
  });

  it('unloading a profile the kernel no longer has removes the file', async () => {
    const ok = await fakeParser('ok');
    const loader = new AppArmorLoader({ dir: path.join(dir, 'profiles'), parser: ok.parser });
    await loader.load(input);
    const gone = await fakeParser('gone');
    await new AppArmorLoader({ dir: path.join(dir, 'profiles'), parser: gone.parser }).unload(ID);
    await expect(stat(loader.fileOf(ID))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a missing parser is APPARMOR_FAILED', async () => {
    const loader = new AppArmorLoader({ dir: path.join(dir, 'profiles'), parser: path.join(dir, 'nothing-here') });
    await expect(loader.load(input)).rejects.toMatchObject({ code: 'APPARMOR_FAILED' });
  });
});
