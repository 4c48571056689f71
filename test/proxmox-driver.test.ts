/**
 * The Proxmox VE driver against a FAKE Proxmox VE (test/fakes/proxmox): no
 * Proxmox VE can run here, so a fake HTTPS server answers the documented
 * subset of Proxmox's published API schema (pve-docs api-viewer/apidata.js,
 * excerpted in test/fakes/proxmox/schema-excerpt.json) in its documented
 * shapes, checks every request against that schema, and runs worker tasks as
 * a state machine with UPIDs. No QEMU runs in this file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndpointConnection, EndpointSession } from '../src/drivers/index.js';
import { createProxmoxDriver } from '../src/drivers/proxmox/index.js';
import { isPolyvisorError, pidAlive } from '../src/shared/index.js';
import { describeConformance } from './helpers/driver-conformance.js';
import { limit } from './helpers/limits.js';
import { makeSelfSignedCert } from './fakes/proxmox/cert.js';
import { ROUTES } from './fakes/proxmox/routes.js';
import { EXCERPT } from './fakes/proxmox/schema.js';
import { FAKE_PASSWORD, FAKE_TOKEN, FAKE_USER, startFakeProxmox, type FakeProxmox } from './fakes/proxmox/server.js';

const driver = createProxmoxDriver({ pollMs: 20 });
const sig = (): AbortSignal => AbortSignal.timeout(limit('operation'));

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string; err: unknown }> {
  try {
    await p;
  } catch (err) {
    return { code: isPolyvisorError(err) ? err.code : `plain: ${String(err)}`, message: (err as Error).message, err };
  }
  return { code: 'resolved', message: '', err: null };
}

/** A raw call to the fake, outside the driver. */
function raw(fake: FakeProxmox, method: string, p: string, headers: Record<string, string>, body = ''): Promise<{ status: number; reason: string; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(fake.url);
    const req = https.request({ host: u.hostname, port: u.port, method, path: `/api2/json${p}`, ca: fake.ca, headers: { ...headers, ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? '', body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('Proxmox VE driver against a fake that follows the published API (no real Proxmox VE here)', () => {
  let fake: FakeProxmox;
  let session: EndpointSession;
  const conn = (over: Partial<EndpointConnection> = {}): EndpointConnection => ({ name: 'pve', url: fake.url, user: FAKE_USER, password: FAKE_PASSWORD, ca: fake.ca, ...over });

  beforeAll(async () => {
    fake = await startFakeProxmox({ stepMs: 50 });
    session = await driver.connect(conn(), sig());
  });
  afterAll(async () => {
    await session?.close();
    await fake?.stop();
  });

  describeConformance(driver, { session: () => session, vm: 'web', otherHost: () => 'pve2', stateWaitMs: limit('state') });

  it('logs in with an API token: every call carries it, no ticket and no CSRF token are asked for', async () => {
    const from = fake.requests.length;
    const s = await driver.connect(conn({ user: undefined, password: undefined, token: FAKE_TOKEN }), sig());
    try {
      expect((await s.info(sig())).hosts).toEqual(['pve1', 'pve2']);
      await s.power!.start!('pve1/102', sig());
      expect((await s.get('pve1/102', sig())).state).toBe('running');
      await s.power!.kill!('pve1/102', sig());
      expect((await s.get('pve1/102', sig())).state).toBe('stopped');
    } finally {
      await s.close();
    }
    const mine = fake.requests.slice(from);
    expect(mine.some((r) => r.path.endsWith('/access/ticket'))).toBe(false);
    expect(mine.every((r) => r.auth === 'token' && r.status === 200)).toBe(true);
    expect(mine.filter((r) => r.method === 'POST').length).toBeGreaterThanOrEqual(2);
  });

  it('with a ticket every write carries the CSRF token; the fake refuses a write without it (401), as Proxmox does', async () => {
    const writes = fake.requests.filter((r) => r.auth === 'ticket' && r.method !== 'GET');
    expect(writes.length).toBeGreaterThan(10);
    expect(writes.every((r) => r.csrf && r.status === 200)).toBe(true);

    const login = await raw(fake, 'POST', '/access/ticket', {}, new URLSearchParams({ username: FAKE_USER, password: FAKE_PASSWORD }).toString());
    const { ticket, CSRFPreventionToken: csrf } = (JSON.parse(login.body) as { data: { ticket: string; CSRFPreventionToken: string } }).data;
    const cookie = { Cookie: `PVEAuthCookie=${encodeURIComponent(ticket)}` };
    const noCsrf = await raw(fake, 'POST', '/nodes/pve1/qemu/102/status/start', cookie);
    expect(noCsrf.status).toBe(401);
    expect(noCsrf.reason).toBe('Permission denied - invalid csrf token');
    expect((await raw(fake, 'GET', '/nodes/pve1/qemu/102/status/current', cookie)).status).toBe(200);
    const withCsrf = await raw(fake, 'POST', '/nodes/pve1/qemu/102/snapshot', { ...cookie, CSRFPreventionToken: csrf }, 'snapname=1-not-an-id');
    expect(withCsrf.status).toBe(400);
    expect(JSON.parse(withCsrf.body)).toEqual({ data: null, errors: { snapname: "invalid configuration ID '1-not-an-id'" } });
  });

  it('a wrong password or token secret is ENDPOINT_AUTH_FAILED, and the message holds no secret', async () => {
    const pw = await codeOf(driver.connect(conn({ password: 'not-the-password' }), sig()));
    expect(pw.code).toBe('ENDPOINT_AUTH_FAILED');
    expect(pw.message).toContain('authentication failure');
    expect(pw.message).not.toContain('not-the-password');
    const badToken = `${FAKE_TOKEN.split('=')[0]}=00000000-0000-0000-0000-000000000000`;
    const tok = await codeOf(driver.connect(conn({ user: undefined, password: undefined, token: badToken }), sig()));
    expect(tok.code).toBe('ENDPOINT_AUTH_FAILED');
    expect(tok.message).not.toContain('00000000-0000');
    const malformed = await codeOf(driver.connect(conn({ user: undefined, password: undefined, token: 'just-a-secret' }), sig()));
    expect(malformed.code).toBe('INVALID_ARGUMENT');
    expect(malformed.message).not.toContain('just-a-secret');
  });

  it('an untrusted certificate is ENDPOINT_TLS_UNTRUSTED (no CA, or another CA); --insecure connects', async () => {
    expect((await codeOf(driver.connect(conn({ ca: undefined }), sig()))).code).toBe('ENDPOINT_TLS_UNTRUSTED');
    const other = await makeSelfSignedCert('other.invalid');
    expect((await codeOf(driver.connect(conn({ ca: other.cert }), sig()))).code).toBe('ENDPOINT_TLS_UNTRUSTED');
    const s = await driver.connect(conn({ ca: undefined, insecure: true }), sig());
    expect((await s.info(sig())).product).toMatch(/^Proxmox VE 8\.4/);
    await s.close();
  });

  it('an endpoint nobody listens on is ENDPOINT_UNREACHABLE; a plain-http or bad URL is INVALID_ARGUMENT', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    expect((await codeOf(driver.connect(conn({ url: `https://127.0.0.1:${port}` }), sig()))).code).toBe('ENDPOINT_UNREACHABLE');
    expect((await codeOf(driver.connect(conn({ url: `http://127.0.0.1:${port}` }), sig()))).code).toBe('INVALID_ARGUMENT');
    expect((await codeOf(driver.connect(conn({ url: 'https://root:pw@127.0.0.1' }), sig()))).code).toBe('INVALID_ARGUMENT');
  });

  it('a failed task is ENDPOINT_TASK_FAILED with Proxmox\'s text, and changes nothing', async () => {
    fake.faults.failTask({ type: 'qmsnapshot', message: "zfs error: cannot create snapshot 'rpool/data/vm-100-disk-0@s1': out of space" });
    const r = await codeOf(session.snapshots!.create('web', { name: 's1', memory: false }, sig()));
    expect(r.code).toBe('ENDPOINT_TASK_FAILED');
    expect(r.message).toContain('out of space');
    expect(r.message).toContain('qmsnapshot');
    expect((await session.snapshots!.list('web', sig())).map((x) => x.name)).not.toContain('s1');
  });

  it('Proxmox\'s refusals map to the catalogue: running/not running, locked, unknown VM, duplicate names', async () => {
    expect((await codeOf(session.power!.start!('db', sig()))).code).toBe('INVALID_TRANSITION'); // task: "VM 101 already running"
    const reboot = await codeOf(session.power!.reboot!('pve1/102', sig())); // sync: "VM 102 not running"
    expect(reboot.code).toBe('INVALID_TRANSITION');
    expect(reboot.message).toContain('VM 102 not running');
    expect((await codeOf(session.get('nothing-here', sig()))).code).toBe('FOREIGN_VM_NOT_FOUND');
    expect((await codeOf(session.get('pve1/999', sig()))).code).toBe('FOREIGN_VM_NOT_FOUND');
    expect((await codeOf(session.snapshots!.revert('db', 'never-made', sig()))).code).toBe('SNAPSHOT_NOT_FOUND');

    const dup = await codeOf(session.get('dup', sig()));
    expect(dup.code).toBe('INVALID_ARGUMENT');
    expect(dup.message).toContain('102');
    expect(dup.message).toContain('103');
    expect((await session.get('pve2/103', sig())).name).toBe('dup');
    expect((await session.list(sig())).filter((v) => v.name === 'dup').map((v) => v.id).sort()).toEqual(['pve1/102', 'pve2/103']);

    fake.cluster.vms.get(104)!.lock = 'backup';
    const locked = await codeOf(session.reconfigure!.setCpuMemory('win', { cpus: 2 }, sig()));
    delete fake.cluster.vms.get(104)!.lock;
    expect(locked.code).toBe('VM_BUSY');
    expect((locked.err as { hint: string }).hint).toContain('"backup" lock');
    expect((await codeOf(session.reconfigure!.setCpuMemory('db', { cpus: 2 }, sig()))).code).toBe('INVALID_TRANSITION');
    expect((await codeOf(session.reconfigure!.setCpuMemory('win', { memoryBytes: 1_000_000 }, sig()))).code).toBe('INVALID_ARGUMENT');
  });

  it('maps a UEFI Windows guest: firmware, OS, disks without the CD-ROM, NICs', async () => {
    const win = await session.get('win', sig());
    expect(win).toMatchObject({ id: 'pve2/104', host: 'pve2', firmware: 'uefi', guestOs: 'Windows 11/2022/2025', cpus: 1, memoryBytes: 8192 * 1024 * 1024, state: 'stopped' });
    expect(win.disks).toEqual([{ name: 'sata0', sizeBytes: 64 * 1024 ** 3, location: 'local-lvm:vm-104-disk-1', format: null }]);
    expect(win.nics).toEqual([{ mac: 'bc:24:11:00:01:04', network: 'vmbr0', model: 'e1000' }]);
    const db = await session.get('db', sig());
    expect(db.disks.map((d) => d.name)).toEqual(['scsi0']);
  });

  it('clone and live migration report progress read from the task log', async () => {
    const seen: number[] = [];
    const c = await session.clone!.clone('db', 'db-copy', sig(), (f) => seen.push(f));
    expect(c).toMatchObject({ name: 'db-copy', state: 'stopped', host: 'pve1' });
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe(1);
    expect((await codeOf(session.clone!.clone('db', 'db-copy', sig()))).code).toBe('VM_EXISTS');

    const moved: number[] = [];
    await session.migration!.migrate('db', 'pve2', sig(), (f) => moved.push(f));
    expect(moved).toEqual([0.25, 0.5, 0.75, 1]);
    expect(await session.get('db', sig())).toMatchObject({ host: 'pve2', state: 'running', id: 'pve2/101' });
    const stats = (await session.metrics!.stats(sig())).find((r) => r.vm === 'db');
    expect(stats).toMatchObject({ cpuSeconds: null, cpuFraction: expect.any(Number), memoryUsedBytes: expect.any(Number), netRxBytes: expect.any(Number), diskWriteBytes: expect.any(Number) });
    expect(stats!.cpuFraction!).toBeGreaterThan(0);
    expect(stats!.netRxBytes!).toBeGreaterThan(0);
  });

  it('a migration that outlasts the task timeout is stopped on Proxmox: TIMEOUT naming the task, the VM stays where it was', async () => {
    const hasty = createProxmoxDriver({ taskTimeoutMs: 120, pollMs: 20 });
    const s = await hasty.connect(conn(), sig());
    try {
      const before = await s.get('db', sig());
      const r = await codeOf(s.migration!.migrate('db', before.host === 'pve1' ? 'pve2' : 'pve1', sig()));
      expect(r.code).toBe('TIMEOUT');
      expect(r.message).toMatch(/qmigrate .* it was stopped \(task UPID:/);
      const until = Date.now() + limit('state');
      while (fake.tasks.running().length && Date.now() < until) await new Promise((res) => setTimeout(res, 50));
      expect(await s.get('db', sig())).toMatchObject({ host: before.host, state: 'running' });
      expect(fake.cluster.vms.get(101)!.lock).toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it('a VM whose config moved between the two reads of a list is left out of that round, not an error', async () => {
    fake.cluster.add({ vmid: 150, node: 'pve1', name: 'short-lived' });
    // The config moves to the other node just as the driver asks for it (a migration's last step).
    fake.faults.beforeAnswer = (_m, p) => {
      if (p.endsWith('/nodes/pve1/qemu/150/config')) fake.cluster.vms.get(150)!.node = 'pve2';
    };
    try {
      const names = (await session.list(sig())).map((v) => v.name);
      expect(names).toContain('web');
      expect(names).not.toContain('short-lived');
      expect(fake.requests.some((r) => r.path.endsWith('/nodes/pve1/qemu/150/config') && r.status === 500)).toBe(true);
      expect((await session.list(sig())).map((v) => v.name)).toContain('short-lived'); // the next round finds it where it is
    } finally {
      fake.faults.beforeAnswer = undefined;
      fake.cluster.vms.delete(150);
    }
  });

  it('a clone given up halfway is stopped on Proxmox and leaves no VM behind', async () => {
    const ac = new AbortController();
    const r = codeOf(session.clone!.clone('web', 'web-abandoned', AbortSignal.any([ac.signal, sig()]), () => ac.abort()));
    expect((await r).code).toBe('ABORTED');
    const until = Date.now() + limit('state');
    while (fake.tasks.running().length && Date.now() < until) await new Promise((res) => setTimeout(res, 50));
    expect(fake.tasks.running()).toEqual([]);
    expect((await session.list(sig())).map((v) => v.name)).not.toContain('web-abandoned');
  });

  it('a connection cut during a write is ENDPOINT_LOST; an answer slower than the request timeout too', async () => {
    fake.faults.drop.push({ match: /^POST .*\/status\/start$/, count: 1 });
    expect((await codeOf(session.power!.start!('pve1/102', sig()))).code).toBe('ENDPOINT_LOST');
    const hasty = createProxmoxDriver({ requestTimeoutMs: 300 });
    const s = await hasty.connect(conn(), sig());
    fake.faults.delayMs = 1000;
    try {
      const slow = await codeOf(s.list(sig()));
      expect(slow.code).toBe('ENDPOINT_LOST');
      expect(slow.message).toContain('did not answer');
    } finally {
      fake.faults.delayMs = 0;
      await s.close();
    }
    expect((await session.list(sig())).length).toBeGreaterThan(0); // the session itself is fine afterwards
  });

  it('an expired ticket is renewed by logging in again, without the caller noticing', async () => {
    const short = await startFakeProxmox({ stepMs: 20, ticketLifetimeMs: 1_000 });
    try {
      const s = await driver.connect({ name: 'short', url: short.url, user: 'root', password: FAKE_PASSWORD, ca: short.ca }, sig());
      await new Promise((r) => setTimeout(r, 1_500));
      await s.power!.start!('web', sig());
      expect((await s.get('web', sig())).state).toBe('running');
      expect(short.requests.filter((r) => r.path.endsWith('/access/ticket')).length).toBe(2);
      const refused = short.requests.findIndex((r) => r.status === 401);
      expect(short.requests.filter((r) => r.status === 401).length).toBe(1);
      expect(short.requests[refused + 1]!.path).toBe('/api2/json/access/ticket');
      await s.close();
    } finally {
      await short.stop();
    }
  });

  it('kill on a Proxmox VE older than 8.2 (no overrule-shutdown): a plain stop after the refusal', async () => {
    const old = await startFakeProxmox({ stepMs: 20, withoutParams: { 'POST /nodes/{node}/qemu/{vmid}/status/stop': ['overrule-shutdown'] } });
    try {
      const s = await driver.connect({ name: 'old', url: old.url, token: FAKE_TOKEN, ca: old.ca }, sig());
      await s.power!.kill!('db', sig());
      expect((await s.get('db', sig())).state).toBe('stopped');
      expect(old.requests.filter((r) => r.path.endsWith('/status/stop')).map((r) => r.status)).toEqual([400, 200]);
      await s.close();
    } finally {
      await old.stop();
    }
  });

  it('every answer of the fake matched the shape the published schema documents; it serves exactly the excerpt\'s methods', () => {
    expect(Object.keys(ROUTES).sort()).toEqual(Object.keys(EXCERPT.methods).filter((k) => k !== 'POST /access/ticket').sort());
    expect(fake.problems).toEqual([]);
    expect(fake.requests.filter((r) => r.status === 501)).toEqual([]);
  });
});

describe('Proxmox VE driver against the fake run as a process (no real Proxmox VE here): killed mid-task', () => {
  let child: ChildProcess | null = null;
  afterAll(() => {
    if (child?.pid && pidAlive(child.pid)) process.kill(child.pid, 'SIGKILL');
  });

  it('the endpoint killed during a live migration: ENDPOINT_LOST, no hang', async () => {
    const root = path.resolve(import.meta.dirname, '..');
    child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test/fakes/proxmox/server.ts'), '--step-ms', '1500'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const first = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: child!.stdout! });
      rl.once('line', resolve);
      child!.once('exit', (c) => reject(new Error(`the fake exited with ${c}`)));
    });
    const info = JSON.parse(first) as { url: string; pid: number; ca: string };
    expect(info.pid).toBe(child.pid);
    const s = await driver.connect({ name: 'doomed', url: info.url, token: FAKE_TOKEN, ca: info.ca }, sig());
    const moving = codeOf(s.migration!.migrate('db', 'pve2', sig()));
    // Kill it once Proxmox shows the migration's lock on the VM.
    const until = Date.now() + limit('state');
    let locked = false;
    while (!locked && Date.now() < until) {
      const rows = (await new Promise<string>((resolve, reject) => {
        const u = new URL(info.url);
        https.get({ host: u.hostname, port: u.port, path: '/api2/json/cluster/resources?type=vm', ca: info.ca, headers: { Authorization: `PVEAPIToken=${FAKE_TOKEN}` } }, (res) => {
          let t = '';
          res.on('data', (c: Buffer) => (t += c.toString()));
          res.on('end', () => resolve(t));
        }).on('error', reject);
      }));
      locked = (JSON.parse(rows) as { data: { vmid: number; lock?: string }[] }).data.some((r) => r.vmid === 101 && r.lock === 'migrate');
      if (!locked) await new Promise((r) => setTimeout(r, 50));
    }
    expect(locked).toBe(true);
    const killedAt = Date.now();
    process.kill(child.pid!, 'SIGKILL');
    const r = await moving;
    console.log(`proxmox fake killed mid-migration: the driver reported ${r.code} ${Date.now() - killedAt} ms later`);
    expect(r.code).toBe('ENDPOINT_LOST');
    expect(r.message).toContain('doomed');
    await s.close();
  });
});
