/**
 * vcsim — VMware's vCenter SIMULATOR (govmomi's simulator package, built from
 * Debian's Go packages by scripts/vcsim-build.sh) — for the vSphere driver's
 * tests and benchmark. It is not vCenter: VMs have no guests, tasks finish at
 * once, power states change on request. Started on a free 127.0.0.1 port over
 * HTTPS with a fresh self-signed certificate (the tests pass it as the CA),
 * with a random password given through its environment (never argv); stopped
 * by PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';

export interface Vcsim {
  /** https://127.0.0.1:PORT/sdk */
  url: string;
  /** The server's self-signed certificate (PEM), to pass as the endpoint's CA. */
  ca: string;
  user: string;
  password: string;
  pid: number;
  stop(): Promise<void>;
  /** SIGKILL, for "the endpoint went away" tests. */
  kill(): Promise<void>;
  /** The tail of vcsim's log (stderr), for a failing test's message. */
  log(): string;
}

let built: string | null = null;

/** The vcsim binary (built once, cached by scripts/vcsim-build.sh). */
export function vcsimBinary(): string {
  if (built) return built;
  const root = path.resolve(import.meta.dirname, '..', '..');
  const r = spawnSync('bash', [path.join(root, 'scripts', 'vcsim-build.sh')], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`scripts/vcsim-build.sh failed: ${r.stderr}`);
  built = r.stdout.trim().split('\n').pop()!;
  return built;
}

function exited(p: ChildProcess): Promise<void> {
  return p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((r) => p.once('exit', () => r()));
}

/** Starts vcsim's VPX model: 1 datacenter, a cluster of `hosts` hosts plus a standalone host, `vms` VMs per resource pool. */
export async function startVcsim(o: { hosts?: number; vms?: number; timeoutMs?: number } = {}): Promise<Vcsim> {
  const bin = vcsimBinary();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-vcsim-'));
  const certFile = path.join(dir, 'cert.pem');
  const user = 'administrator@vsphere.local';
  const password = randomBytes(12).toString('base64url');
  const child = spawn(bin, ['-l', '127.0.0.1:0', '-host', String(o.hosts ?? 3), '-vm', String(o.vms ?? 2), '-cert', certFile], {
    env: { ...process.env, VCSIM_USER: user, VCSIM_PASSWORD: password, TMPDIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20_000)));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`vcsim printed no URL within ${o.timeoutMs ?? 60_000} ms: ${stderr}`)), o.timeoutMs ?? 60_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('https://'));
      if (line) {
        clearTimeout(timer);
        resolve(line.trim());
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vcsim exited (${code}) before serving: ${stderr}`));
    });
  }).catch((err: unknown) => {
    child.kill('SIGKILL');
    cleanup();
    throw err;
  });
  child.stdout!.resume();
  const ca = readFileSync(certFile, 'utf8');
  // It answers: GET /about over TLS with the certificate as the CA.
  await new Promise<void>((resolve, reject) => {
    https.get(new URL('/about', url), { ca, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`vcsim /about answered ${res.statusCode}`))));
    }).on('error', reject);
  });
  const stopWith = async (sig: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, sig);
    await exited(child);
    cleanup();
  };
  return { url, ca, user, password, pid: child.pid!, stop: () => stopWith('SIGTERM'), kill: () => stopWith('SIGKILL'), log: () => stderr };
}
