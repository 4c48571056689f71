/**
 * TLS for one host-to-host migration: a fresh, short-lived CA that signs one
 * server certificate (for the target QEMU and its NBD server) and one client
 * certificate (for the source QEMU), made with openssl (argv, no shell). The
 * source keeps the CA key only until both certificates are signed. QEMU reads
 * them through a tls-creds-x509 object whose directory holds ca-cert.pem and
 * server-cert.pem/server-key.pem or client-cert.pem/client-key.pem.
 */
import { chmod, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { QmpClient } from '../../qmp/index.js';
import { runChecked } from '../../shared/index.js';
import type { MigrationTlsFiles } from '../migratable.js';

export const TLS_OBJECT_ID = 'pv-mig-tls';
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'];

async function openssl(args: string[], signal: AbortSignal): Promise<void> {
  await runChecked('openssl', args, { timeoutMs: 30_000, signal, missingCode: 'FILE_NOT_FOUND', failCode: 'MIGRATION_FAILED' });
}

/** CA, server and client certificates in `dir` (created 0700, keys 0600); the CA key is removed afterwards. */
export async function makeMigrationTls(dir: string, hostname: string, signal: AbortSignal): Promise<MigrationTlsFiles> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const f = (n: string) => path.join(dir, n);
  const leaf = (role: 'server' | 'client') => [
    'req', '-x509', ...EC, '-keyout', f(`${role}-key.pem`), '-out', f(`${role}-cert.pem`), '-subj', `/CN=${hostname}`,
    '-CA', f('ca-cert.pem'), '-CAkey', f('ca-key.pem'),
    '-addext', `subjectAltName=DNS:${hostname}`, '-addext', 'basicConstraints=critical,CA:FALSE',
    '-addext', `extendedKeyUsage=${role === 'server' ? 'serverAuth' : 'clientAuth'}`, '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment',
  ];
  try {
    await openssl(['req', '-x509', ...EC, '-keyout', f('ca-key.pem'), '-out', f('ca-cert.pem'), '-subj', '/CN=polyvisor-migration-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], signal);
    await openssl(leaf('server'), signal);
    await openssl(leaf('client'), signal);
    for (const k of ['server-key.pem', 'client-key.pem']) await chmod(f(k), 0o600);
  } finally {
    await rm(f('ca-key.pem'), { force: true });
  }
  return { dir, hostname };
}

/** Adds the tls-creds-x509 object QEMU's migration and NBD code refer to by id. */
export async function addTlsCreds(qmp: QmpClient, tls: MigrationTlsFiles, endpoint: 'server' | 'client', signal: AbortSignal): Promise<void> {
  // A QEMU that arrived by an encrypted move still holds that move's object (same id): the new move's replaces it.
  await qmp.execute('object-del', { id: TLS_OBJECT_ID }, { signal }).catch(() => undefined);
  await qmp.execute('object-add', {
    'qom-type': 'tls-creds-x509', id: TLS_OBJECT_ID, dir: tls.dir, endpoint, 'verify-peer': true,
  }, { signal });
}

/** Turns TLS off again on a source that keeps running (a later same-host move or save must not inherit it). */
export async function removeTlsCreds(qmp: QmpClient): Promise<void> {
  await qmp.execute('migrate-set-parameters', { 'tls-creds': '', 'tls-hostname': '' }, { timeoutMs: 5_000 }).catch(() => undefined);
  await qmp.execute('object-del', { id: TLS_OBJECT_ID }, { timeoutMs: 5_000 }).catch(() => undefined);
}
