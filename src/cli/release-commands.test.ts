/** `polyvisor release verify` through the real command tree, on a real signed directory in a temp dir. */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exitCodeFor, isPolyvisorError } from '../shared/index.js';
import { buildProgram } from './program.js';

const dir = mkdtempSync(path.join(tmpdir(), 'pv-release-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const keys = generateKeyPairSync('ed25519');
const body = 'the tarball';
const sums = `${createHash('sha256').update(body).digest('hex')}  polyvisor-9.9.9.tgz\n`;
writeFileSync(path.join(dir, 'polyvisor-9.9.9.tgz'), body);
writeFileSync(path.join(dir, 'SHA256SUMS'), sums);
writeFileSync(path.join(dir, 'SHA256SUMS.sig'), sign(null, Buffer.from(sums), keys.privateKey));
const pub = path.join(dir, '..', `${path.basename(dir)}.pub.pem`);
writeFileSync(pub, keys.publicKey.export({ type: 'spki', format: 'pem' }));
afterAll(() => rmSync(pub, { force: true }));

async function cli(args: string[]): Promise<{ out: string; code?: string; exit: number }> {
  let out = '';
  const argv = ['release', 'verify', ...args];
  try {
    await buildProgram((s) => void (out += s), argv).parseAsync(argv, { from: 'user' });
    return { out, exit: 0 };
  } catch (err) {
    if (!isPolyvisorError(err)) throw err;
    return { out, code: err.code, exit: exitCodeFor(err.code) };
  }
}

describe('polyvisor release verify', () => {
  it('prints each file and the signature; --json prints the report', async () => {
    const r = await cli([dir, '--key', pub]);
    expect(r.exit).toBe(0);
    expect(r.out).toMatch(/^OK +polyvisor-9\.9\.9\.tgz$/m);
    expect(r.out).toMatch(/^signature: valid \(key sha256:[0-9a-f]{64}\)$/m);
    const j = await cli(['--json', dir, '--key', pub]);
    expect(JSON.parse(j.out)).toMatchObject({ ok: true, signature: 'valid', files: [{ path: 'polyvisor-9.9.9.tgz', status: 'ok' }] });
  });

  it('fails with exit 1 naming the changed file; says when the signature was not checked', async () => {
    writeFileSync(path.join(dir, 'polyvisor-9.9.9.tgz'), 'the tarbalL');
    const r = await cli([dir]);
    expect(r).toMatchObject({ code: 'RELEASE_CHECKSUM_MISMATCH', exit: 1 });
    expect(r.out).toMatch(/^CHANGED +polyvisor-9\.9\.9\.tgz$/m);
    expect(r.out).toMatch(/signature: not checked/);
    writeFileSync(path.join(dir, 'polyvisor-9.9.9.tgz'), body);
  });

  it('refuses an unreadable key file (FILE_NOT_FOUND) and a wrong key (RELEASE_SIGNATURE_INVALID)', async () => {
    expect((await cli([dir, '--key', path.join(dir, 'none.pem')])).code).toBe('FILE_NOT_FOUND');
    const wrong = path.join(dir, '..', `${path.basename(dir)}.wrong.pem`);
    writeFileSync(wrong, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    try {
      expect(await cli([dir, '--key', wrong])).toMatchObject({ code: 'RELEASE_SIGNATURE_INVALID', exit: 1 });
    } finally {
      rmSync(wrong, { force: true });
    }
  });
});
