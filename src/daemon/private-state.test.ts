import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeStatePrivate } from './private-state.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'pv-private-'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;
const paths = (stateDir: string, socket = path.join(stateDir, 'polyvisord.sock')) => ({
  stateDir, vmsDir: path.join(stateDir, 'vms'), cacheDir: path.join(stateDir, 'cache'), dbFile: path.join(stateDir, 'polyvisor.db'), socket,
});

describe('makeStatePrivate (audit defect 11)', () => {
  it('tightens an existing state directory, its folders and the SQLite files left with loose modes', async () => {
    const p = paths(path.join(root, 'state'));
    await mkdir(p.vmsDir, { recursive: true });
    await chmod(p.stateDir, 0o755);
    await chmod(p.vmsDir, 0o755);
    for (const f of [p.dbFile, `${p.dbFile}-wal`]) {
      await writeFile(f, '');
      await chmod(f, 0o644);
    }
    await makeStatePrivate(p);
    expect(await mode(p.stateDir)).toBe(0o700);
    expect(await mode(p.vmsDir)).toBe(0o700);
    expect(await mode(p.cacheDir)).toBe(0o700);
    expect(await mode(p.dbFile)).toBe(0o600);
    expect(await mode(`${p.dbFile}-wal`)).toBe(0o600);
  });

  it('creates a socket folder outside the state directory with mode 0700, and leaves a shared one alone', async () => {
    const own = paths(path.join(root, 'state'), path.join(root, 'run', 'pv', 'api.sock'));
    await makeStatePrivate(own);
    expect(await mode(path.join(root, 'run', 'pv'))).toBe(0o700);
    const shared = path.join(root, 'shared');
    await mkdir(shared, { mode: 0o755 });
    await chmod(shared, 0o755);
    const warnings: unknown[] = [];
    const logger = { warn: (o: unknown) => void warnings.push(o), info: () => undefined } as unknown as Parameters<typeof makeStatePrivate>[1];
    await makeStatePrivate(paths(path.join(root, 'state2'), path.join(shared, 'api.sock')), logger);
    expect(await mode(shared)).toBe(0o755);
    expect(warnings).toHaveLength(1);
  });
});
