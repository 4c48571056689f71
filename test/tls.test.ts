/**
 * TLS on the TCP listener and certificate pinning in the client and CLI,
 * against a real daemon: the certificate is generated on first start (key
 * 0600); `remote add` refuses an unaccepted certificate without a terminal,
 * pins it with --accept-certificate; the pinned fingerprint works for HTTP,
 * SSE and WSS; a wrong or missing pin is refused; after the certificate is
 * regenerated the old pin is refused with CERTIFICATE_MISMATCH.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpsClient, PlatformClient, PolyvisorClient } from '../src/client/index.js';
import { isPolyvisorError } from '../src/shared/index.js';
import { startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { runCli } from './helpers/http.js';
import { NetnsLab } from './helpers/netns.js';

let d: TestDaemon;
let port: number;
let token: string;
const stateDir = tempStateDir('tls');
const configDir = path.join(tempStateDir('tlscfg'), 'polyvisor');
const cli = (args: string[]) => runCli(args, { POLYVISOR_CONFIG_DIR: configDir });
const certFingerprint = (): string =>
  new X509Certificate(readFileSync(path.join(stateDir, 'tls', 'server.crt'))).fingerprint256.replace(/:/g, '').toLowerCase();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address() as net.AddressInfo;
      s.close(() => resolve(a.port));
    });
    s.on('error', reject);
  });
}

const start = () => startDaemon({ stateDir, extraArgs: ['--listen', `127.0.0.1:${port}`, '--tls'], env: { POLYVISOR_API_RATE_LIMIT: '1000' } });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return isPolyvisorError(err) ? err.code : String(err);
  }
}

beforeAll(async () => {
  port = await freePort();
  d = await start();
  const created = await new PlatformClient({ endpoint: { socketPath: d.socket } }).createToken('tls-admin', 'admin');
  token = created.token;
});
afterAll(async () => {
  await d?.stop();
});

describe('TLS listener', () => {
  it('generates a self-signed certificate on first start; the key is 0600; the URL is https', () => {
    expect(d.url).toBe(`https://127.0.0.1:${port}`);
    expect(statSync(path.join(stateDir, 'tls', 'server.key')).mode & 0o777).toBe(0o600);
    const info = JSON.parse(readFileSync(path.join(stateDir, 'daemon.json'), 'utf8')) as { tlsFingerprint: string };
    expect(info.tlsFingerprint).toBe(certFingerprint());
  });

  it('the typed client: the pinned fingerprint works; a wrong one or none is refused', async () => {
    const fp = certFingerprint();
    const good = new PolyvisorClient({ endpoint: { url: d.url, fingerprint: fp }, token });
    expect(await good.listVms()).toEqual([]);
    expect(await codeOf(new PolyvisorClient({ endpoint: { url: d.url, fingerprint: 'ab'.repeat(32) }, token }).listVms())).toBe('CERTIFICATE_MISMATCH');
    expect(await codeOf(new PolyvisorClient({ endpoint: { url: d.url }, token }).listVms())).toBe('CERTIFICATE_UNTRUSTED');
    // the event stream (SSE over https) with the pin
    const ac = new AbortController();
    let opened = false;
    await new PlatformClient({ endpoint: { url: d.url, fingerprint: fp }, token }).followEvents(() => undefined, { signal: ac.signal, onOpen: () => { opened = true; ac.abort(); } });
    expect(opened).toBe(true);
    expect(await codeOf(new PlatformClient({ endpoint: { url: d.url, fingerprint: 'cd'.repeat(32) }, token }).followEvents(() => undefined))).toBe('CERTIFICATE_MISMATCH');
  });

  it('WebSockets (wss) go through the same pin', async () => {
    const fp = certFingerprint();
    const closeOf = (ws: ReturnType<PolyvisorClient['openConsole']>) =>
      new Promise<{ code: number; error?: unknown }>((resolve) => {
        let error: unknown;
        ws.on('error', (err) => (error = err));
        ws.on('close', (code) => resolve({ code, error }));
      });
    const ok = await closeOf(new PolyvisorClient({ endpoint: { url: d.url, fingerprint: fp }, token }).openConsole('nope'));
    expect(ok.code).toBe(4404); // upgraded over wss, then told there is no such VM
    const bad = await closeOf(new PolyvisorClient({ endpoint: { url: d.url, fingerprint: 'ef'.repeat(32) }, token }).openConsole('nope'));
    expect(isPolyvisorError(bad.error, 'CERTIFICATE_MISMATCH')).toBe(true);
  });

  it('remote add: refused without a terminal unless accepted; then pinned and used', async () => {
    const refused = await cli(['remote', 'add', 'lab', d.url, '--token', token]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/SHA-256 fingerprint: [0-9A-F:]{95}/);
    expect(refused.stderr).toMatch(/not accepted.*--accept-certificate/);
    expect((await cli(['remote', 'list'])).stdout).not.toMatch(/lab/);

    const wrong = await cli(['remote', 'add', 'lab', d.url, '--token', token, '--fingerprint', '12'.repeat(32)]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/fingerprint/);

    const add = await cli(['remote', 'add', 'lab', d.url, '--token', token, '--accept-certificate']);
    expect(add.code, add.stderr).toBe(0);
    const stored = JSON.parse(readFileSync(path.join(configDir, 'remotes.json'), 'utf8')) as { remotes: Record<string, { fingerprint: string }> };
    expect(stored.remotes['lab']!.fingerprint).toBe(certFingerprint());
    const list = await cli(['--remote', 'lab', 'vm', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.trim()).toBe('[]');
  });

  it('a daemon with a regenerated certificate is refused with CERTIFICATE_MISMATCH', async () => {
    const old = certFingerprint();
    await d.stop();
    rmSync(path.join(stateDir, 'tls'), { recursive: true, force: true });
    d = await start();
    expect(d.url).toBe(`https://127.0.0.1:${port}`);
    expect(certFingerprint()).not.toBe(old);
    const res = await cli(['--remote', 'lab', 'vm', 'list']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/presented a certificate with fingerprint .*not the pinned/);
    const json = await cli(['--json', '--remote', 'lab', 'vm', 'list']);
    expect((JSON.parse(json.stderr.trim()) as { code: string }).code).toBe('CERTIFICATE_MISMATCH');
  });
});

describe('TLS by default beyond loopback (audit defect 6), in a network namespace this test makes', () => {
  const lab = new NetnsLab();
  afterAll(async () => {
    await lab.cleanup();
  });

  it('listening on 0.0.0.0 serves HTTPS without --tls; plain HTTP there is refused at start unless --insecure-http', async () => {
    const ns = await lab.add('tls');
    const beyond = tempStateDir('tls-beyond');
    const a = await startDaemon({ stateDir: beyond, netns: ns, extraArgs: ['--listen', '0.0.0.0:18443'] });
    try {
      expect(a.url).toBe('https://0.0.0.0:18443');
      const https = await lab.exec(ns, 'curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', 'https://127.0.0.1:18443/v1/vms']);
      expect(https.stdout).toBe('401'); // TLS answered; no token, so 401
      const plain = await lab.exec(ns, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:18443/v1/vms'], true);
      expect(plain.stdout).not.toBe('401'); // the listener speaks TLS only
    } finally {
      await a.stop();
    }
    const refused = await startDaemon({ stateDir: tempStateDir('tls-off'), netns: ns, extraArgs: ['--listen', '0.0.0.0:18444'], env: { POLYVISOR_TLS: '0' } })
      .then(() => 'started', (err: Error) => err.message);
    expect(refused).toMatch(/reaches beyond this machine, and tls is off/);
    expect(refused).toMatch(/--insecure-http/);
    const insecure = await startDaemon({ stateDir: tempStateDir('tls-insecure'), netns: ns, extraArgs: ['--listen', '0.0.0.0:18445', '--insecure-http'] });
    try {
      expect(insecure.url).toBe('http://0.0.0.0:18445');
      const doctor = await new OpsClient({ endpoint: { socketPath: insecure.socket } }).doctor();
      const finding = doctor.findings.find((f) => f.check === 'api-listener');
      expect(finding?.severity).toBe('warning');
      expect(finding?.message).toMatch(/plain HTTP/);
    } finally {
      await insecure.stop();
    }
  });

  it('remote add refuses http:// to another machine unless --insecure-http', async () => {
    const tokenFile = path.join(tempStateDir('tls-token'), 'token');
    writeFileSync(tokenFile, 'pv_not_a_real_token\n');
    const res = await cli(['remote', 'add', 'far', 'http://192.0.2.10:8006', '--token-file', tokenFile]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/plain HTTP to another machine/);
    const ok = await cli(['remote', 'add', 'far', 'http://192.0.2.10:8006', '--token-file', tokenFile, '--insecure-http']);
    expect(ok.code, ok.stderr).toBe(0);
  });
});
