/**
 * The TCP listener's TLS certificate: generated on first start with Debian's
 * `openssl` (argv only, through shared/spawn), kept in <stateDir>/tls/, and
 * pinned by the CLI through its SHA-256 fingerprint (docs/api.md, "TLS").
 */
import { X509Certificate } from 'node:crypto';
import { access, chmod, mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { PolyvisorError, runChecked, type Logger } from '../shared/index.js';

export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
  /** SHA-256 of the DER certificate, lowercase hex without colons (what the CLI pins). */
  fingerprint: string;
  certFile: string;
  keyFile: string;
}

export const tlsFiles = (stateDir: string): { dir: string; cert: string; key: string } => {
  const dir = path.join(stateDir, 'tls');
  return { dir, cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key') };
};

/** Reads <stateDir>/tls/server.{crt,key}, generating both on first use. */
export async function ensureTlsCertificate(stateDir: string, hostName: string, logger: Logger, opts: { openssl?: string } = {}): Promise<TlsMaterial> {
  const f = tlsFiles(stateDir);
  await mkdir(f.dir, { recursive: true, mode: 0o700 });
  if (!(await exists(f.cert)) || !(await exists(f.key))) {
    await generate(f, hostName, opts.openssl ?? 'openssl');
    logger.info({ cert: f.cert }, 'generated a self-signed TLS certificate');
  }
  try {
    const [key, cert] = await Promise.all([readFile(f.key), readFile(f.cert)]);
    const fingerprint = new X509Certificate(cert).fingerprint256.replace(/:/g, '').toLowerCase();
    return { key, cert, fingerprint, certFile: f.cert, keyFile: f.key };
  } catch (err) {
    throw new PolyvisorError('TLS_SETUP_FAILED', `cannot read the TLS certificate in ${f.dir}`, { cause: err });
  }
}

async function generate(f: { dir: string; cert: string; key: string }, hostName: string, openssl: string): Promise<void> {
  const tmp = await mkdtemp(path.join(f.dir, '.new-')); // mode 0700: the key is never readable by others
  try {
    const key = path.join(tmp, 'server.key');
    const cert = path.join(tmp, 'server.crt');
    const san = [`DNS:${hostName}`, 'DNS:localhost', 'IP:127.0.0.1', 'IP:::1'].join(',');
    await runChecked(openssl, [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-sha256', '-nodes',
      '-days', '3650', '-subj', `/O=Polyvisor/CN=polyvisord@${hostName}`, '-addext', `subjectAltName=${san}`,
      '-keyout', key, '-out', cert,
    ], { timeoutMs: 30_000, failCode: 'TLS_SETUP_FAILED', missingCode: 'TLS_SETUP_FAILED' });
    await chmod(key, 0o600);
    await chmod(cert, 0o644);
    await rename(key, f.key);
    await rename(cert, f.cert); // the certificate last: both exist only once both are complete
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}
