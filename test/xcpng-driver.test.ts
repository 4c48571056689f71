/**
 * The XCP-ng driver against a FAKE XCP-ng pool (test/fakes/xapi): no Xen host
 * can run here, so a fake HTTPS server speaks XAPI's JSON-RPC, built from an
 * excerpt of XAPI's published datamodel (xapi-project/xen-api ocaml/idl,
 * kept in test/fakes/xapi/datamodel-excerpt.json with its sources): two
 * hosts, sessions that expire, tasks, event.from, and /export_raw_vdi over
 * real disk files. Every call is checked against the excerpt's parameter
 * lists and every record against its fields. The request/response pairs
 * recorded in XAPI's wire-protocol documentation are replayed against the
 * fake and read by the driver. No QEMU runs in this file (the move to local
 * is test/xcpng-import.test.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndpointConnection, EndpointSession } from '../src/drivers/index.js';
import { createXcpngDriver } from '../src/drivers/xcpng/index.js';
import { readAnswer } from '../src/drivers/xcpng/rpc.js';
import { xapiFailure, XapiError } from '../src/drivers/xcpng/errors.js';
import { isPolyvisorError, pidAlive } from '../src/shared/index.js';
import { describeConformance, errorOf } from './helpers/driver-conformance.js';
import { limit } from './helpers/limits.js';
import { makeSelfSignedCert } from './fakes/proxmox/cert.js';
import { FAKE_PASSWORD, FAKE_USER, startFakeXapi, type FakeXapi } from './fakes/xapi/server.js';

const driver = createXcpngDriver({ pollMs: 10, eventPollSeconds: 2 });
const sig = (): AbortSignal => AbortSignal.timeout(limit('operation'));
let fake: FakeXapi;
let session: EndpointSession;
const conn = (o: Partial<EndpointConnection> = {}): EndpointConnection => ({ name: 'xcp', url: fake.url, user: FAKE_USER, password: FAKE_PASSWORD, ca: fake.ca, ...o });

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string; err: unknown }> {
  const err = await errorOf(p);
  if (err === undefined) return { code: 'resolved', message: '', err };
  return { code: isPolyvisorError(err) ? err.code : `plain: ${String(err)}`, message: (err as Error).message, err };
}

/** A raw JSON-RPC request to the fake, outside the driver. */
function post(body: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(fake.url);
    const text = JSON.stringify(body);
    const req = https.request({ host: u.hostname, port: u.port, method: 'POST', path: '/jsonrpc', ca: fake.ca, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) } }, (res) => {
      let t = '';
      res.on('data', (c: Buffer) => (t += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: t }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

beforeAll(async () => {
  fake = await startFakeXapi({ stepMs: 20 });
  session = await driver.connect(conn(), sig());
}, limit('daemon'));
afterAll(async () => {
  await session?.close();
  await fake?.stop();
});

describe('XCP-ng driver against a fake XAPI pool (no real XCP-ng here): conformance', () => {
  describeConformance(driver, {
    session: () => session,
    vm: 'web',
    // A VM started without affinity lands on the pool master (xcp1); the suite migrates it to the other host.
    otherHost: () => 'xcp2',
    stateWaitMs: limit('state'),
    alsoShown: ['import', 'export'], // XVA / OVA / VHD files: the interchange tests
  });
});

describe('XCP-ng driver against a fake XAPI pool (no real XCP-ng here)', () => {
  it('inventory of a two-host pool: guests only (no templates, control domains or snapshots), mapped with what is lost named', async () => {
    const info = await session.info(sig());
    expect(info).toMatchObject({ product: 'XCP-ng 8.3.0 (xapi 24.19), pool fake-pool', version: '8.3.0', hosts: ['xcp1', 'xcp2'] });
    const all = await session.list(sig());
    expect(all.map((v) => v.name)).toEqual(expect.arrayContaining(['db', 'legacy', 'web']));
    expect(all.some((v) => /Control domain|Debian Bookworm 12/.test(v.name))).toBe(false);
    const db = all.find((v) => v.name === 'db')!;
    expect(db).toMatchObject({ state: 'running', host: 'xcp1', cpus: 2, memoryBytes: 512 * 1024 ** 2, firmware: 'uefi' });
    expect(db.disks.map((d) => [d.name, d.sizeBytes, d.format])).toEqual([['xvda', 8 * 1024 ** 2, 'vhd'], ['xvdb', 4 * 1024 ** 2, 'vhd']]);
    expect(db.disks[0]!.location).toMatch(/^NFS virtual disk storage\/[0-9a-f-]{36}$/);
    expect(db.nics).toEqual([{ mac: '8e:2f:0a:00:00:02', network: 'Pool-wide network associated with eth0', model: null }]);
    expect((await session.get(db.id, sig())).name).toBe('db'); // by UUID too

    const legacy = await session.exporter!.toSpec('legacy', sig());
    expect((await session.get('legacy', sig())).firmware).toBeNull();
    expect(legacy.lossy.join('\n')).toContain('PV guest (bootloader pygrub)');
    expect(legacy.spec.boot.firmware).toBe('bios');
    const web = await session.exporter!.toSpec('web', sig());
    expect(web.spec.disks.map((d) => d.name)).toEqual(['xvda']);
    expect(web.lossy.join('\n')).toMatch(/CD drive\(s\) are not carried over/);
    expect(web.lossy.join('\n')).toContain('XCP-ng network "Pool-wide network associated with eth0"');
    expect(web.spec.networks[0]).toMatchObject({ mac: '8e:2f:0a:00:00:01' });
  });

  it('XAPI\'s refusals map to the catalogue: wrong power state, unknown VM, duplicate names, a running VM\'s disks', async () => {
    const start = await codeOf(session.power!.start!('db', sig()));
    expect(start.code).toBe('INVALID_TRANSITION');
    expect(start.message).toContain('the VM is running; this needs it halted');
    expect((start.err as { details: { xapi: string[] } }).details.xapi[0]).toBe('VM_BAD_POWER_STATE');
    expect((await codeOf(session.get('nothing-here', sig()))).code).toBe('FOREIGN_VM_NOT_FOUND');
    expect((await codeOf(session.snapshots!.revert('db', 'never-made', sig()))).code).toBe('SNAPSHOT_NOT_FOUND');
    expect((await codeOf(session.exporter!.disks('db', sig()))).code).toBe('FOREIGN_VM_RUNNING');
    expect((await codeOf(session.reconfigure!.setCpuMemory('db', { cpus: 1 }, sig()))).code).toBe('INVALID_TRANSITION');
    expect((await codeOf(session.reconfigure!.setCpuMemory('legacy', { memoryBytes: 1000 }, sig()))).code).toBe('INVALID_ARGUMENT');
    expect((await codeOf(session.migration!.migrate('db', 'xcp9', sig()))).code).toBe('INVALID_ARGUMENT');
    await session.clone!.clone('legacy', 'twin', sig());
    expect((await codeOf(session.clone!.clone('web', 'twin', sig()))).code).toBe('VM_EXISTS');
    const ref = fake.vm('twin');
    fake.db.mod('VM', fake.vm('legacy'), { name_label: 'twin' }); // XAPI allows two VMs of one name
    try {
      const dup = await codeOf(session.get('twin', sig()));
      expect(dup.code).toBe('INVALID_ARGUMENT');
      expect(dup.message).toContain(String(fake.db.get('VM', ref)!['uuid']));
    } finally {
      for (const [r, v] of fake.db.table('VM')) if (v['name_label'] === 'twin' && r !== ref) fake.db.mod('VM', r, { name_label: 'legacy' });
    }
  });

  it('snapshot create, revert and delete: the disk comes back as it was, a delete leaves no VDI behind', async () => {
    const vm = fake.vm('web');
    const vdiOf = (ref: string): string => (fake.db.get('VM', ref)!['VBDs'] as string[]).map((b) => fake.db.get('VBD', b)!).find((b) => b['type'] === 'Disk')!['VDI'] as string;
    const before = fake.db.table('VDI').size;
    await writeFile(fake.db.files.get(vdiOf(vm))!, Buffer.alloc(4096, 0x41), { flag: 'r+' });
    await session.snapshots!.create('web', { name: 'before-upgrade', memory: false }, sig());
    expect(fake.db.table('VDI').size).toBe(before + 1);
    await writeFile(fake.db.files.get(vdiOf(vm))!, Buffer.alloc(4096, 0x42), { flag: 'r+' });
    const seen: number[] = [];
    await session.snapshots!.revert('web', 'before-upgrade', sig(), (f) => seen.push(f));
    expect(seen.at(-1)).toBe(1);
    const head = (await readFile(fake.db.files.get(vdiOf(vm))!)).subarray(0, 4096);
    expect(head.equals(Buffer.alloc(4096, 0x41))).toBe(true);
    expect((await session.snapshots!.list('web', sig())).find((s) => s.name === 'before-upgrade')).toMatchObject({ current: true, memory: false, parent: null });
    expect((await codeOf(session.snapshots!.create('web', { name: 'before-upgrade', memory: false }, sig()))).code).toBe('SNAPSHOT_EXISTS');
    await session.snapshots!.remove('web', 'before-upgrade', sig());
    expect(await session.snapshots!.list('web', sig())).toEqual([]);
    expect(fake.db.table('VDI').size).toBe(before);
  });

  it('pool_migrate followed to completion through its task, progress from the task record', async () => {
    const from = (await session.get('db', sig())).host!;
    const to = from === 'xcp1' ? 'xcp2' : 'xcp1';
    const seen: number[] = [];
    // Steps far apart from the driver's polls, so the task is seen pending at least once; which steps a poll
    // catches is the scheduler's business: every value seen is one the task record held, rising, ending at 1.
    fake.tasks.stepMs = 400;
    try {
      await session.migration!.migrate('db', to, sig(), (f) => seen.push(f));
    } finally {
      fake.tasks.stepMs = 20;
    }
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.at(-1)).toBe(1);
    expect(seen.every((f) => [0.25, 0.5, 0.75, 1].includes(f))).toBe(true);
    expect(seen).toEqual([...new Set(seen)].sort((a, b) => a - b));
    expect(await session.get('db', sig())).toMatchObject({ host: to, state: 'running' });
    expect(fake.calls.filter((c) => c.method === 'Async.VM.pool_migrate').length).toBeGreaterThanOrEqual(1);
    expect(fake.db.table('task').size, 'finished tasks are destroyed').toBe(0);
  });

  it('a task that fails halfway: ENDPOINT_TASK_FAILED with XAPI\'s error, the VM where it was and not locked', async () => {
    const vm = fake.vm('db');
    const from = (await session.get('db', sig())).host!;
    const to = from === 'xcp1' ? 'xcp2' : 'xcp1';
    fake.faults.failTask({ method: 'VM.pool_migrate', atProgress: 0.5, error: ['VM_MIGRATE_FAILED', vm, fake.hosts[from]!, fake.hosts[to]!, 'Xenops_interface.Xenopsd_error(Internal_error("memory image checksum mismatch"))'] });
    const seen: number[] = [];
    const r = await codeOf(session.migration!.migrate('db', to, sig(), (f) => seen.push(f)));
    expect(r.code).toBe('ENDPOINT_TASK_FAILED');
    expect(r.message).toContain('VM_MIGRATE_FAILED');
    expect(r.message).toContain('checksum mismatch');
    expect(seen.every((f) => f < 0.5), 'no progress past the failure').toBe(true);
    expect(await session.get('db', sig())).toMatchObject({ host: from, state: 'running' });
    expect(fake.db.get('VM', vm)!['current_operations']).toEqual({});
  });

  it('a migration given up by the caller is cancelled on the pool (task.cancel)', async () => {
    const from = (await session.get('db', sig())).host!;
    const ac = new AbortController();
    fake.tasks.stepMs = 400; // slow steps: the task is still pending when its first progress is seen
    let r: Awaited<ReturnType<typeof codeOf>>;
    try {
      r = await codeOf(session.migration!.migrate('db', from === 'xcp1' ? 'xcp2' : 'xcp1', AbortSignal.any([ac.signal, sig()]), () => ac.abort()));
    } finally {
      fake.tasks.stepMs = 20;
    }
    expect(r.code).toBe('ABORTED');
    expect(fake.calls.some((c) => c.method === 'task.cancel')).toBe(true);
    expect([...fake.db.table('task').values()].map((t) => t['status'])).not.toContain('pending');
    expect((await session.get('db', sig())).host).toBe(from);
  });

  it('wrong credentials are ENDPOINT_AUTH_FAILED without the password in the message; a token is refused; TLS and reachability are checked', async () => {
    const pw = await codeOf(driver.connect(conn({ password: 'not-the-password' }), sig()));
    expect(pw.code).toBe('ENDPOINT_AUTH_FAILED');
    expect(pw.message).toContain('login as root refused');
    expect(pw.message).not.toContain('not-the-password');
    expect((await codeOf(driver.connect(conn({ password: undefined, token: 'abc' }), sig()))).code).toBe('INVALID_ARGUMENT');
    expect((await codeOf(driver.connect(conn({ ca: undefined }), sig()))).code).toBe('ENDPOINT_TLS_UNTRUSTED');
    const other = await makeSelfSignedCert('other.invalid');
    expect((await codeOf(driver.connect(conn({ ca: other.cert }), sig()))).code).toBe('ENDPOINT_TLS_UNTRUSTED');
    const s = await driver.connect(conn({ ca: undefined, insecure: true }), sig());
    await s.close();
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

  it('an expired session: the driver logs in again once and the call goes through; the caller does not notice', async () => {
    const s = await driver.connect(conn({ name: 'expiring' }), sig());
    try {
      const logins = fake.calls.filter((c) => c.method === 'session.login_with_password').length;
      fake.faults.expireSessions();
      await s.power!.start!('legacy', sig());
      expect((await s.get('legacy', sig())).state).toBe('running');
      expect(fake.calls.filter((c) => c.method === 'session.login_with_password').length).toBe(logins + 1);
      const refused = fake.calls.findLastIndex((c) => c.error === 'SESSION_INVALID');
      expect(refused).toBeGreaterThan(-1);
      expect(fake.calls[refused + 1]!.method).toBe('session.login_with_password');
      await s.power!.kill!('legacy', sig());
    } finally {
      await s.close();
    }
    // A short-lived session (xapi's own expiry) too.
    // Sessions of 3 s: long enough for a login and one retried call even on a busy machine (a session that runs out
    // again before the retry is answered is ENDPOINT_AUTH_FAILED by design: one re-login, not a loop).
    const short = await startFakeXapi({ stepMs: 10, sessionLifetimeMs: 3_000, vms: [{ name: 'tiny', disksMiB: [1] }] });
    try {
      const s2 = await driver.connect({ name: 'short', url: short.url, user: FAKE_USER, password: FAKE_PASSWORD, ca: short.ca }, sig());
      await new Promise((r) => setTimeout(r, 3_200));
      expect((await s2.get('tiny', sig())).state).toBe('stopped');
      // However often the 3 s sessions ran out on this (possibly busy) machine: a new login only after a refusal
      // (calls refused together share one login).
      const logins = short.calls.filter((c) => c.method === 'session.login_with_password').length;
      expect(logins).toBeGreaterThanOrEqual(2);
      expect(logins).toBeLessThanOrEqual(1 + short.calls.filter((c) => c.error === 'SESSION_INVALID').length);
      await s2.close();
    } finally {
      await short.stop();
    }
  });

  it('a connection cut during a call is ENDPOINT_LOST; the session works afterwards', async () => {
    fake.faults.drop.push({ match: /^Async\.VM\.start$/, count: 1 });
    expect((await codeOf(session.power!.start!('legacy', sig()))).code).toBe('ENDPOINT_LOST');
    const hasty = createXcpngDriver({ requestTimeoutMs: 300 });
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
    expect((await session.list(sig())).length).toBeGreaterThan(0);
  });

  it('replays the exchanges recorded in XAPI\'s wire-protocol documentation against the fake, and the driver reads them', async () => {
    const replay = JSON.parse(await readFile(new URL('./fakes/xapi/replay.json', import.meta.url), 'utf8')) as {
      pairs: Array<{ source: string; request: unknown; response?: unknown; httpStatus?: number; bodyContains?: string }>;
    };
    expect(replay.pairs.length).toBe(3);
    for (const p of replay.pairs) {
      const got = await post(p.request);
      if (p.response) {
        expect(got.status, p.source).toBe(200);
        expect(JSON.parse(got.text), p.source).toEqual(p.response);
        const read = readAnswer(p.response);
        expect(read, p.source).toBeInstanceOf(XapiError);
        expect((read as XapiError).code).toBe('SESSION_INVALID');
        expect(xapiFailure('xcp', 'host.get_resident_VMs', read as XapiError).code).toBe('ENDPOINT_AUTH_FAILED');
      } else {
        expect(got.status, p.source).toBe(p.httpStatus);
        expect(got.text, p.source).toContain(p.bodyContains);
      }
    }
  });

  it('every record the fake answered carried exactly the datamodel excerpt\'s fields; nothing unknown was called', () => {
    expect(fake.problems).toEqual([]);
    expect(fake.calls.filter((c) => c.error === 'MESSAGE_METHOD_UNKNOWN' || c.error === 'MESSAGE_PARAMETER_COUNT_MISMATCH' || c.error === 'FIELD_TYPE_ERROR')).toEqual([]);
  });
});

describe('XCP-ng driver against the fake XAPI pool run as a process (no real XCP-ng here): killed mid-task', () => {
  let child: ChildProcess | null = null;
  afterAll(() => {
    if (child?.pid && pidAlive(child.pid)) process.kill(child.pid, 'SIGKILL');
  });

  it('the pool master killed during a live migration: ENDPOINT_LOST naming the endpoint, no hang', async () => {
    const root = path.resolve(import.meta.dirname, '..');
    child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test/fakes/xapi/server.ts'), '--step-ms', '1500'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const first = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: child!.stdout! });
      rl.once('line', resolve);
      child!.once('exit', (c) => reject(new Error(`the fake exited with ${c}`)));
    });
    const info = JSON.parse(first) as { url: string; pid: number; ca: string };
    expect(info.pid).toBe(child.pid);
    const s = await driver.connect({ name: 'doomed', url: info.url, user: FAKE_USER, password: FAKE_PASSWORD, ca: info.ca }, sig());
    let killedAt = 0;
    // Killed once the migration task reports its first progress (it is under way on the pool).
    const r = await codeOf(s.migration!.migrate('db', 'xcp2', sig(), (f) => {
      if (f > 0 && !killedAt) {
        killedAt = Date.now();
        process.kill(child!.pid!, 'SIGKILL');
      }
    }));
    expect(killedAt).toBeGreaterThan(0);
    console.log(`xapi fake killed mid-migration: the driver reported ${r.code} ${Date.now() - killedAt} ms later`);
    expect(r.code).toBe('ENDPOINT_LOST');
    expect(r.message).toContain('doomed');
    await s.close();
  }, limit('operation'));
});
