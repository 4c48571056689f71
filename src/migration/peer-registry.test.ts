import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SecretStore } from '../secrets/index.js';
import { silentLogger, type PolyvisorError } from '../shared/index.js';
import { PeerRegistry } from './peer-registry.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-peers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TOKEN = 'pvt_peer-token-planted-0123456789';
const err = async (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as PolyvisorError);

describe('registered migration peers (audit defect 7)', () => {
  it('adds, lists without tokens, resolves, replaces and removes; the token is stored encrypted', async () => {
    const peers = new PeerRegistry(await SecretStore.open({ stateDir: dir, logger: silentLogger }));
    const added = await peers.add('b', { url: 'http://127.0.0.1:8006', token: TOKEN });
    expect(added).toMatchObject({ name: 'b', url: 'http://127.0.0.1:8006', tlsFingerprint: null });
    expect(JSON.stringify(await peers.list())).not.toContain(TOKEN);
    expect(readFileSync(path.join(dir, 'secrets.json'), 'utf8')).not.toContain(TOKEN);
    expect(await peers.target('b')).toEqual({ url: 'http://127.0.0.1:8006', token: TOKEN });
    const fp = 'ab'.repeat(32);
    await peers.add('b', { url: 'https://10.0.0.2:8006', token: TOKEN, tlsFingerprint: fp });
    expect(await peers.list()).toEqual([expect.objectContaining({ name: 'b', url: 'https://10.0.0.2:8006', tlsFingerprint: fp })]);
    await peers.remove('b');
    expect(await peers.list()).toEqual([]);
    expect((await err(peers.target('b')))?.code).toBe('PEER_NOT_FOUND');
    expect((await err(peers.remove('b')))?.code).toBe('PEER_NOT_FOUND');
  });

  it('refuses a URL with a path or another scheme, a short token, a bad fingerprint, a bad name', async () => {
    const peers = new PeerRegistry(await SecretStore.open({ stateDir: dir, logger: silentLogger }));
    for (const t of [
      { url: 'exec:sh', token: TOKEN }, { url: 'http://h:1/x', token: TOKEN }, { url: 'http://h:1', token: 'short' },
      { url: 'https://h:1', token: TOKEN, tlsFingerprint: 'nope' },
    ]) expect((await err(peers.add('c', t)))?.code, t.url).toBe('INVALID_BODY');
    expect((await err(peers.add('../x', { url: 'http://h:1', token: TOKEN })))?.code).toBe('INVALID_NAME');
    expect(await peers.list()).toEqual([]);
  });
});
