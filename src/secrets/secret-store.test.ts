import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../shared/index.js';
import * as atomic from '../shared/atomic-file.js';
import { SECRETS_FILE, SECRETS_KEY_FILE, SecretStore } from './index.js';

const PLANTED = 'hunter2-planted-Secret-value-9f3a';
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-secrets-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

const mode = async (f: string): Promise<number> => (await stat(path.join(dir, f))).mode & 0o777;

function recordingLogger(lines: string[]): Logger {
  const l: Logger = {
    trace: (...a: unknown[]) => void lines.push(JSON.stringify(a)),
    debug: (...a: unknown[]) => void lines.push(JSON.stringify(a)),
    info: (...a: unknown[]) => void lines.push(JSON.stringify(a)),
    warn: (...a: unknown[]) => void lines.push(JSON.stringify(a)),
    error: (...a: unknown[]) => void lines.push(JSON.stringify(a)),
    child: () => l,
  } as unknown as Logger;
  return l;
}

describe('SecretStore', () => {
  it('creates a 0600 key file on first open, keeps values sealed in a 0600 file, never in clear or in logs', async () => {
    const lines: string[] = [];
    const s = await SecretStore.open({ stateDir: dir, logger: recordingLogger(lines) });
    expect(await mode(SECRETS_KEY_FILE)).toBe(0o600);
    const r = await s.set('db-password', PLANTED);
    expect(r).toMatchObject({ name: 'db-password', created: true });
    expect(await mode(SECRETS_FILE)).toBe(0o600);
    const onDisk = await readFile(path.join(dir, SECRETS_FILE), 'utf8');
    expect(onDisk).not.toContain(PLANTED);
    expect(onDisk).not.toContain(Buffer.from(PLANTED).toString('base64'));
    expect(await s.reveal('db-password')).toBe(PLANTED);
    expect(await s.list()).toEqual([{ name: 'db-password', createdAt: r.createdAt, updatedAt: r.updatedAt }]);
    expect(JSON.stringify(await s.list())).not.toContain(PLANTED);
    expect((await s.set('db-password', 'v2')).created).toBe(false);
    expect(lines.join('\n')).not.toContain(PLANTED);
    expect(lines.join('\n')).toContain('db-password');
  });

  it('reads its values back after a restart, and refuses another installation\'s key', async () => {
    const s = await SecretStore.open({ stateDir: dir });
    await s.set('a', PLANTED);
    expect(await (await SecretStore.open({ stateDir: dir })).reveal('a')).toBe(PLANTED);
    const other = await mkdtemp(path.join(tmpdir(), 'pv-secrets-other-'));
    try {
      await SecretStore.open({ stateDir: other });
      await writeFile(path.join(dir, SECRETS_KEY_FILE), await readFile(path.join(other, SECRETS_KEY_FILE)));
      await expect(SecretStore.open({ stateDir: dir })).rejects.toMatchObject({ code: 'SECRETS_UNREADABLE' });
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('a value moved to another name does not decrypt (the name is authenticated)', async () => {
    const s = await SecretStore.open({ stateDir: dir });
    await s.set('a', PLANTED);
    await s.set('b', 'other');
    const f = path.join(dir, SECRETS_FILE);
    const doc = JSON.parse(await readFile(f, 'utf8')) as { secrets: Record<string, unknown> };
    doc.secrets['b'] = doc.secrets['a'];
    await writeFile(f, JSON.stringify(doc));
    const again = await SecretStore.open({ stateDir: dir });
    await expect(again.reveal('b')).rejects.toMatchObject({ code: 'SECRETS_UNREADABLE' });
  });

  it('remove, unknown names and bad names are catalogue errors', async () => {
    const s = await SecretStore.open({ stateDir: dir });
    await s.set('x', '1');
    await s.remove('x');
    await expect(s.remove('x')).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
    await expect(s.reveal('x')).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
    await expect(s.set('../etc', '1')).rejects.toMatchObject({ code: 'INVALID_NAME' });
    await expect(s.set('big', 'x'.repeat(64 * 1024 + 1))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await s.list()).toEqual([]);
  });

  it('rotates the key: every value re-sealed, the old key gone, values intact', async () => {
    const s = await SecretStore.open({ stateDir: dir });
    await s.set('a', PLANTED);
    await s.set('b', 'second');
    const before = await readFile(path.join(dir, SECRETS_KEY_FILE), 'utf8');
    const r = await s.rotateKey();
    expect(r.secrets).toBe(2);
    const after = JSON.parse(await readFile(path.join(dir, SECRETS_KEY_FILE), 'utf8')) as { current: string; keys: Record<string, string> };
    expect(after.current).toBe(r.key);
    expect(Object.keys(after.keys)).toEqual([r.key]);
    expect(JSON.stringify(after)).not.toContain((JSON.parse(before) as { current: string }).current);
    const doc = JSON.parse(await readFile(path.join(dir, SECRETS_FILE), 'utf8')) as { secrets: Record<string, { key: string }> };
    expect(Object.values(doc.secrets).map((e) => e.key)).toEqual([r.key, r.key]);
    const again = await SecretStore.open({ stateDir: dir });
    expect(await again.reveal('a')).toBe(PLANTED);
    expect(await again.reveal('b')).toBe('second');
    expect(await mode(SECRETS_KEY_FILE)).toBe(0o600);
  });

  it('a rotation that fails while writing the values leaves every value readable with the old key', async () => {
    const s = await SecretStore.open({ stateDir: dir });
    await s.set('a', PLANTED);
    await s.set('b', 'second');
    const real = atomic.writeFileAtomic;
    vi.spyOn(atomic, 'writeFileAtomic').mockImplementation(async (file, data, m) => {
      if (String(file).endsWith(SECRETS_FILE)) throw new Error('ENOSPC (simulated)');
      return real(file, data, m);
    });
    await expect(s.rotateKey()).rejects.toThrow(/ENOSPC/);
    vi.restoreAllMocks();
    const doc = JSON.parse(await readFile(path.join(dir, SECRETS_FILE), 'utf8')) as { secrets: Record<string, { key: string }> };
    expect(new Set(Object.values(doc.secrets).map((e) => e.key)).size).toBe(1);
    const again = await SecretStore.open({ stateDir: dir });
    expect(await again.reveal('a')).toBe(PLANTED);
    expect(await again.reveal('b')).toBe('second');
    const keys = JSON.parse(await readFile(path.join(dir, SECRETS_KEY_FILE), 'utf8')) as { keys: Record<string, string> };
    expect(Object.keys(keys.keys)).toHaveLength(1); // the unused new key was dropped
  });

  it('finishes a rotation interrupted after the values were re-sealed', async () => {
    const s = await SecretStore.open({ stateDir: dir });
    await s.set('a', PLANTED);
    const real = atomic.writeFileAtomic;
    let keyWrites = 0;
    vi.spyOn(atomic, 'writeFileAtomic').mockImplementation(async (file, data, m) => {
      if (String(file).endsWith(SECRETS_KEY_FILE) && ++keyWrites === 2) throw new Error('crash (simulated)');
      return real(file, data, m);
    });
    await expect(s.rotateKey()).rejects.toThrow(/crash/);
    vi.restoreAllMocks();
    const again = await SecretStore.open({ stateDir: dir });
    expect(await again.reveal('a')).toBe(PLANTED);
    const keys = JSON.parse(await readFile(path.join(dir, SECRETS_KEY_FILE), 'utf8')) as { current: string; keys: Record<string, string> };
    const doc = JSON.parse(await readFile(path.join(dir, SECRETS_FILE), 'utf8')) as { secrets: Record<string, { key: string }> };
    expect(Object.keys(keys.keys)).toEqual([keys.current]);
    expect(doc.secrets['a']!.key).toBe(keys.current);
  });

  it('tightens a key file left with a looser mode', async () => {
    await SecretStore.open({ stateDir: dir });
    const { chmod } = await import('node:fs/promises');
    await chmod(path.join(dir, SECRETS_KEY_FILE), 0o644);
    await SecretStore.open({ stateDir: dir });
    expect(await mode(SECRETS_KEY_FILE)).toBe(0o600);
  });
});
