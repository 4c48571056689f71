/**
 * A self-signed certificate for the fake, made at test time with openssl
 * (argv only) for 127.0.0.1 and localhost, as a fresh Proxmox node has its
 * own self-signed pve-ssl.pem.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runChecked } from '../../../src/shared/index.js';

export interface CertPair {
  cert: string;
  key: string;
}

export async function makeSelfSignedCert(cn = 'pve1.fake.invalid'): Promise<CertPair> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pv-pve-cert-'));
  try {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    await runChecked('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-sha256', '-nodes', '-days', '2',
      '-subj', `/OU=PVE Cluster Node/O=Proxmox Virtual Environment/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', key, '-out', cert,
    ], { timeoutMs: 30_000, failCode: 'INTERNAL' });
    return { cert: await readFile(cert, 'utf8'), key: await readFile(key, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
