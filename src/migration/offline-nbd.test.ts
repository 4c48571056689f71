/**
 * The offline copy's NBD leg with the real qemu-nbd and qemu-img: with the
 * move's TLS certificates the file arrives byte for byte, a plain-text client
 * is refused by the server, and so is a client whose certificate another CA
 * signed (audit defect 4).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMigrationTls } from '../drivers/qemu/migrate-tls.js';
import { silentLogger } from '../shared/index.js';
import { closeExport, copyFileToNbd, exportFile, stopExport, type FileExport } from './offline-nbd.js';

const HOSTNAME = 'polyvisor-migration-target';
let dir: string;
let exp: FileExport | undefined;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pv-nbdtls-'));
});
afterAll(async () => {
  if (exp) await stopExport(exp.pidFile);
  rmSync(dir, { recursive: true, force: true });
});

describe('offline copy over NBD with TLS', () => {
  it('copies with the move\'s certificates; refuses a plain client and one of another CA', async () => {
    const signal = AbortSignal.timeout(60_000);
    const src = await makeMigrationTls(path.join(dir, 'src'), HOSTNAME, signal);
    const other = await makeMigrationTls(path.join(dir, 'other'), HOSTNAME, signal);
    const tgt = path.join(dir, 'tgt');
    mkdirSync(tgt, { mode: 0o700 });
    for (const f of ['ca-cert.pem', 'server-cert.pem', 'server-key.pem']) copyFileSync(path.join(src.dir, f), path.join(tgt, f));
    const data = randomBytes(2 * 1024 * 1024);
    writeFileSync(path.join(dir, 'in.raw'), data);
    writeFileSync(path.join(dir, 'out.raw'), Buffer.alloc(data.length));
    exp = await exportFile(dir, 'data', path.join(dir, 'out.raw'), '127.0.0.1', signal, { dir: tgt, hostname: HOSTNAME });
    const to = { host: exp.host, port: exp.port, exportName: 'data' };

    await expect(copyFileToNbd(path.join(dir, 'in.raw'), to, { signal })).rejects.toThrow(/TLS/);
    await expect(copyFileToNbd(path.join(dir, 'in.raw'), to, { signal, tls: other })).rejects.toMatchObject({ code: 'MIGRATION_FAILED' });
    expect(readFileSync(path.join(dir, 'out.raw')).equals(Buffer.alloc(data.length))).toBe(true); // nothing written by either

    await copyFileToNbd(path.join(dir, 'in.raw'), to, { signal, tls: src });
    expect(readFileSync(path.join(dir, 'out.raw')).equals(data)).toBe(true);
  });

  it('behind an address gate (audit defect 4): qemu-nbd on a unix socket, a client from an address the move was not set up for is cut, an allowed one copies', async () => {
    const signal = AbortSignal.timeout(60_000);
    const data = randomBytes(1024 * 1024);
    writeFileSync(path.join(dir, 'g-in.raw'), data);
    writeFileSync(path.join(dir, 'g-out.raw'), Buffer.alloc(data.length));
    // qemu-img connects from the address the kernel picks toward 127.0.0.1: 127.0.0.1 itself. Only 127.0.0.2 allowed first, then 127.0.0.1.
    const refused = await exportFile(dir, 'gated', path.join(dir, 'g-out.raw'), '127.0.0.1', signal, undefined, { allow: ['127.0.0.2'], logger: silentLogger });
    try {
      await expect(copyFileToNbd(path.join(dir, 'g-in.raw'), { host: refused.host, port: refused.port, exportName: 'gated' }, { signal })).rejects.toMatchObject({ code: 'MIGRATION_FAILED' });
      expect(refused.gate?.refused).toBeGreaterThan(0);
      expect(readFileSync(path.join(dir, 'g-out.raw')).equals(Buffer.alloc(data.length))).toBe(true);
    } finally {
      await closeExport(refused);
    }
    const ok = await exportFile(dir, 'gated', path.join(dir, 'g-out.raw'), '127.0.0.1', signal, undefined, { allow: ['127.0.0.1'], logger: silentLogger });
    try {
      await copyFileToNbd(path.join(dir, 'g-in.raw'), { host: ok.host, port: ok.port, exportName: 'gated' }, { signal });
      expect(readFileSync(path.join(dir, 'g-out.raw')).equals(data)).toBe(true);
      expect(ok.gate?.refused).toBe(0);
    } finally {
      await closeExport(ok);
    }
    expect(existsSync(path.join(dir, 'nbd-gated.sock'))).toBe(false);
  });

  it('refuses a TLS directory whose path QEMU\'s option syntax would split', async () => {
    await expect(copyFileToNbd('/dev/null', { host: '127.0.0.1', port: 1, exportName: 'data' }, { signal: AbortSignal.timeout(5_000), tls: { dir: '/tmp/a,b', hostname: HOSTNAME } }))
      .rejects.toMatchObject({ code: 'MIGRATION_FAILED', message: expect.stringMatching(/comma/) });
  });
});
