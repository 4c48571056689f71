/**
 * Endpoints through a real daemon and the CLI, against two Proxmox VE fakes
 * run as processes (no Proxmox VE can run here: the fakes follow its
 * published API, test/fakes/proxmox/): one inventory with an ENDPOINT column,
 * credentials from files and never shown or logged, bad input refused with
 * typed errors and nothing half-registered, and an endpoint killed in the
 * middle of an operation: a typed error, its VMs kept from the cache and
 * marked stale, the other endpoint served as before.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, tempStateDir, ROOT, type TestDaemon } from './helpers/daemon.js';
import { runCli } from './helpers/http.js';
import { EndpointClient } from '../src/client/index.js';
import { isPolyvisorError } from '../src/shared/index.js';
import { FAKE_PASSWORD, FAKE_TOKEN, FAKE_USER } from './fakes/proxmox/server.js';
import { limit } from './helpers/limits.js';

interface Fake { child: ChildProcess; url: string; ca: string; pid: number }

async function startFake(stepMs: number): Promise<Fake> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/fakes/proxmox/server.ts'), '--step-ms', String(stepMs)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (c) => reject(new Error(`the fake exited with ${c}`)));
  });
  const info = JSON.parse(first) as { url: string; pid: number; ca: string };
  return { child, ...info };
}

let d: TestDaemon;
let a: Fake;
let b: Fake;
const dir = tempStateDir('endpoints-files');
const file = (name: string, text: string): string => {
  const p = path.join(dir, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
};
const cli = (args: string[]) => runCli(['--socket', d.socket, ...args]);

beforeAll(async () => {
  [d, a, b] = await Promise.all([startDaemon(), startFake(1500), startFake(50)]);
}, limit('daemon'));
afterAll(async () => {
  for (const f of [a, b]) if (f?.child.exitCode === null) f.child.kill('SIGKILL');
  await d?.stop();
});

describe('endpoints through the daemon and the CLI (Proxmox VE fakes, not a real Proxmox VE)', () => {
  it('bad input registers nothing: wrong password, untrusted certificate, unreachable URL, unknown driver', async () => {
    const ca = file('a.pem', a.ca);
    const wrong = await cli(['endpoint', 'add', 'pve-a', '--driver', 'proxmox', '--url', a.url, '--user', FAKE_USER, '--password-file', file('wrong', 'not-the-password\n'), '--ca', ca]);
    expect(wrong.stderr).toContain('error[ENDPOINT_AUTH_FAILED]');
    expect(wrong.stderr).not.toContain('not-the-password');
    const untrusted = await cli(['endpoint', 'add', 'pve-a', '--driver', 'proxmox', '--url', a.url, '--token-file', file('tok', FAKE_TOKEN)]);
    expect(untrusted.stderr).toContain('error[ENDPOINT_TLS_UNTRUSTED]');
    const down = await cli(['endpoint', 'add', 'pve-a', '--driver', 'proxmox', '--url', 'https://127.0.0.1:9', '--token-file', file('tok', FAKE_TOKEN), '--ca', ca]);
    expect(down.stderr).toContain('error[ENDPOINT_UNREACHABLE]');
    const nodriver = await cli(['endpoint', 'add', 'x', '--driver', 'virtualbox', '--url', a.url]);
    expect(nodriver.stderr).toContain('error[DRIVER_NOT_FOUND]');
    expect(nodriver.code).toBe(2);
    expect(JSON.parse((await cli(['endpoint', 'list', '--json'])).stdout)).toEqual([]);
  });

  it('two endpoints: one inventory with an ENDPOINT column, credentials never shown or logged', async () => {
    const addA = await cli(['endpoint', 'add', 'pve-a', '--driver', 'proxmox', '--url', a.url, '--user', FAKE_USER, '--password-file', file('pw', `${FAKE_PASSWORD}\n`), '--ca', file('a.pem', a.ca)]);
    expect(addA.stderr).toBe('');
    expect(addA.stdout).toMatch(/^endpoint pve-a: added \(.*, 5 VMs\)\n$/);
    expect((await cli(['endpoint', 'add', 'pve-b', '--driver', 'proxmox', '--url', b.url, '--token-file', file('tok', FAKE_TOKEN), '--ca', file('b.pem', b.ca)])).code).toBe(0);
    const list = await cli(['endpoint', 'list', '--json']);
    const eps = JSON.parse(list.stdout) as Array<{ name: string; auth: string; tls: string }>;
    expect(eps.map((e) => [e.name, e.auth, e.tls])).toEqual([['pve-a', 'password', 'ca'], ['pve-b', 'token', 'ca']]);
    for (const secret of [FAKE_PASSWORD, FAKE_TOKEN.split('=')[1]!]) {
      expect(list.stdout).not.toContain(secret);
      expect(d.log()).not.toContain(secret);
    }
    const t = await cli(['vm', 'list']);
    expect(t.stdout.split('\n')[0]).toMatch(/^NAME\s+STATE\s+VCPUS\s+MEMORY\s+ACCEL\s+PID\s+LABELS\s+ENDPOINT$/);
    expect(t.stdout).toMatch(/pve-a\/web\s+stopped\s+2\s+2 GiB\s.*pve-a/);
    expect(t.stdout).toMatch(/pve-b\/db\s+running\s+4\s+4 GiB\s.*pve-b/);
    const only = JSON.parse((await cli(['vm', 'list', '--endpoint', 'pve-b', '--json'])).stdout) as Array<{ ref: string }>;
    expect(only.every((r) => r.ref.startsWith('pve-b/'))).toBe(true);
    const drivers = await cli(['driver', 'list']);
    expect(drivers.stdout).toMatch(/proxmox\s+yes/);
    expect(drivers.stdout).toMatch(/hyperv\s+yes/); // live since issue 29 (tested against a fake)
    expect(drivers.stdout).toMatch(/xcpng\s+yes/);
  });

  it('actions by ENDPOINT/NAME, and a capability the driver lacks refused before anything is sent', async () => {
    const start = await cli(['vm', 'start', 'pve-b/web']);
    expect(start.stderr).toBe('');
    expect(start.stdout).toBe('pve-b/web: running\n');
    const show = await cli(['vm', 'show', 'pve-b/web', '--json']);
    expect(JSON.parse(show.stdout)).toMatchObject({ ref: 'pve-b/web', driver: 'proxmox', state: 'running' });
    const imp = await cli(['import', 'pve-b/web', '--no-progress']);
    expect(imp.stderr).toContain('error[CAPABILITY_NOT_SUPPORTED]');
    expect(imp.stderr).toContain('proxmox');
    expect(imp.stderr).toContain('move.toLocal');
    expect(imp.code).toBe(2);
    expect((await cli(['vm', 'kill', 'pve-b/web'])).stdout).toBe('pve-b/web: stopped\n');
    expect((await cli(['vm', 'show', 'pve-b/nope'])).stderr).toContain('error[FOREIGN_VM_NOT_FOUND]');
    expect((await cli(['vm', 'start', 'nope/web'])).stderr).toContain('error[ENDPOINT_NOT_FOUND]');
  });

  it('an endpoint killed in the middle of a migration: a typed error at once, its VMs stale, the other endpoint served', async () => {
    // The slow fake (1.5 s per task step) is moving its running VM when it dies.
    const moving = new EndpointClient({ endpoint: { socketPath: d.socket } }).migrate('pve-a', 'db', 'pve2').then(() => 'moved', (e: unknown) => e);
    await new Promise((r) => setTimeout(r, 2500));
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    const r = await moving;
    const waited = Date.now() - killedAt;
    console.log(`endpoint killed mid-migration: the daemon answered ${isPolyvisorError(r) ? r.code : String(r)} after ${waited} ms`);
    expect(isPolyvisorError(r) && ['ENDPOINT_LOST', 'ENDPOINT_UNREACHABLE'].includes(r.code), String(r)).toBe(true);
    const inv = await cli(['vm', 'list', '--fresh']);
    expect(inv.stderr).toMatch(/warning: endpoint pve-a: ENDPOINT_(UNREACHABLE|LOST).*\(rows from the cache\)/);
    expect(inv.stdout).toMatch(/pve-a\/web/);
    expect(inv.stdout).toMatch(/pve-b\/web\s+stopped/);
    expect((await cli(['vm', 'start', 'pve-b/web'])).stdout).toBe('pve-b/web: running\n');
    const test = await cli(['endpoint', 'test', 'pve-a']);
    expect(test.code).toBe(5);
    expect(test.stdout).toMatch(/status:\s+ENDPOINT_UNREACHABLE/);
    expect((await cli(['endpoint', 'rm', 'pve-a'])).stdout).toBe('endpoint pve-a: removed\n');
    expect((await cli(['vm', 'list'])).stdout).not.toMatch(/pve-a\//);
  }, limit('operation'));
});
