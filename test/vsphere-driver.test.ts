/**
 * The vSphere driver against vcsim — VMware's vCenter SIMULATOR (govmomi),
 * not a real vCenter: VMs there have no guests, tasks finish at once. It speaks
 * the same vim25 SOAP API over HTTPS (its self-signed certificate passed as the
 * endpoint's CA), so the driver's wire calls, the inventory's shape, tasks,
 * faults and datastore HTTP access are real; what a guest would do is not.
 *
 * Runs the one driver conformance suite, then the driver's own cases: the
 * default inventory, a power cycle with events, the snapshot tree, vMotion,
 * a disk exported byte for byte, and the faults (wrong password, closed port,
 * untrusted certificate, vcsim killed mid-call).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndpointConnection, ForeignChange } from '../src/drivers/index.js';
import { createVsphereDriver, type VsphereSession } from '../src/drivers/vsphere/index.js';
import { isPolyvisorError } from '../src/shared/index.js';
import { describeConformance, errorOf, waitState } from './helpers/driver-conformance.js';
import { testGuest } from './helpers/guest.js';
import { freePort } from './helpers/http.js';
import { startVcsim, type Vcsim } from './helpers/vcsim.js';

const driver = createVsphereDriver();
const sig = (): AbortSignal => AbortSignal.timeout(60_000);
const FIXTURE_VM = 'DC0_C0_RP0_VM0';

let sim: Vcsim;
let session: VsphereSession;
let otherHost = '';
const work = mkdtempSync(path.join(os.tmpdir(), 'pv-vsphere-test-'));

function conn(over: Partial<EndpointConnection> = {}): EndpointConnection {
  return { name: 'vcsim', url: sim.url, user: sim.user, password: sim.password, ca: sim.ca, ...over };
}

/** PUT a file onto vcsim's datastore (as `govc datastore.upload` would). */
function upload(dsPath: string, body: Buffer, to: Vcsim = sim): Promise<void> {
  const u = new URL(`/folder/${dsPath}?dcPath=DC0&dsName=LocalDS_0`, to.url);
  return new Promise((resolve, reject) => {
    const req = https.request(u, { method: 'PUT', ca: to.ca, headers: { 'Content-Length': String(body.length) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`upload answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function readStream(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('vSphere driver on vcsim (VMware\'s vCenter simulator, not a real vCenter)', () => {
  beforeAll(async () => {
    sim = await startVcsim();
    session = (await driver.connect(conn(), sig())) as VsphereSession;
    // vcsim powers its model VMs on; the conformance suite wants its VM stopped.
    if ((await session.get(FIXTURE_VM, sig())).state !== 'stopped') await session.power!.kill!(FIXTURE_VM, sig());
    const here = (await session.get(FIXTURE_VM, sig())).host;
    const info = await session.info(sig());
    otherHost = info.clusters[0]!.hosts.find((h) => h !== here)!;
  }, 300_000);

  afterAll(async () => {
    if (process.env['POLYVISOR_TEST_VCSIM_LOG'] === '1') console.log(sim?.log());
    await session?.close();
    await sim?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  describeConformance(driver, {
    session: () => session,
    vm: FIXTURE_VM,
    otherHost: () => otherHost,
    stateWaitMs: 20_000,
  });

  it('lists vcsim\'s default inventory: datacenter, cluster, hosts, datastore and VMs with their hardware', async () => {
    const info = await session.info(sig());
    expect(info.product).toContain('VMware vCenter Server');
    expect(info.datacenters).toEqual(['DC0']);
    expect(info.clusters).toEqual([{ name: 'DC0_C0', hosts: ['DC0_C0_H0', 'DC0_C0_H1', 'DC0_C0_H2'] }]);
    expect(info.hosts).toEqual(['DC0_C0_H0', 'DC0_C0_H1', 'DC0_C0_H2', 'DC0_H0']);
    expect(info.datastores.map((d) => d.name)).toEqual(['LocalDS_0']);
    expect(info.datastores[0]!.capacityBytes).toBeGreaterThan(0);

    const vms = await session.list(sig());
    const names = vms.map((v) => v.name);
    for (const n of ['DC0_H0_VM0', 'DC0_H0_VM1', 'DC0_C0_RP0_VM0', 'DC0_C0_RP0_VM1']) expect(names).toContain(n);
    const standalone = vms.find((v) => v.name === 'DC0_H0_VM0')!;
    expect(standalone.id).toMatch(/^vm-\d+$/);
    expect(standalone.host).toBe('DC0_H0');
    expect(standalone.cpus).toBeGreaterThan(0);
    expect(standalone.memoryBytes).toBeGreaterThanOrEqual(32 * 1024 * 1024);
    expect(standalone.disks[0]).toMatchObject({ format: 'vmdk', location: '[LocalDS_0] DC0_H0_VM0/disk1.vmdk' });
    expect(standalone.disks[0]!.sizeBytes).toBeGreaterThan(0);
    expect(standalone.nics[0]!.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(standalone.nics[0]!.network).toBeTruthy();
    expect(['running', 'stopped']).toContain(standalone.state);
    // A brief list (the inventory's rows) has everything but the devices.
    const brief = await session.list(sig(), { brief: true });
    expect(brief.map(({ disks: _d, nics: _n, ...r }) => r)).toEqual(vms.map(({ disks: _d, nics: _n, ...r }) => r));
    expect(brief.every((v) => v.disks.length === 0 && v.nics.length === 0)).toBe(true);
    // get() by name and by managed object id give the same VM.
    expect((await session.get(standalone.id, sig())).name).toBe('DC0_H0_VM0');
  });

  it('power cycle: start, suspend, start, reset, guest shutdown, power off; refusals typed; events pushed', async () => {
    const vm = 'DC0_H0_VM1';
    const p = session.power!;
    const seen: ForeignChange[] = [];
    const stop = session.events!.watch((c) => seen.push(c), () => undefined);
    try {
      if ((await session.get(vm, sig())).state !== 'stopped') await p.kill!(vm, sig());
      await p.start!(vm, sig());
      expect((await session.get(vm, sig())).state).toBe('running');
      expect(isPolyvisorError(await errorOf(p.start!(vm, sig())), 'INVALID_TRANSITION'), 'a second power on is refused').toBe(true);
      await p.suspend!(vm, sig());
      expect((await session.get(vm, sig())).state).toBe('suspended');
      await p.start!(vm, sig());
      await p.reboot!(vm, sig());
      expect((await session.get(vm, sig())).state).toBe('running');
      await p.shutdown!(vm, sig());
      await waitState(session, vm, 'stopped', 20_000);
      expect(isPolyvisorError(await errorOf(p.shutdown!(vm, sig())), 'INVALID_TRANSITION'), 'a guest shutdown of a stopped VM is refused').toBe(true);
      await p.start!(vm, sig());
      await p.kill!(vm, sig());
      expect((await session.get(vm, sig())).state).toBe('stopped');
      const until = Date.now() + 20_000;
      const mine = (): string[] => seen.filter((c) => c.vm === vm).map((c) => c.state ?? '');
      while (Date.now() < until && mine().filter((s) => s === 'stopped').length < 2) await new Promise((r) => setTimeout(r, 100));
      expect(mine()).toContain('running');
      expect(mine()).toContain('suspended');
      expect(mine()[mine().length - 1]).toBe('stopped');
    } finally {
      stop();
    }
    expect(isPolyvisorError(await errorOf(p.start!('no-such-vm', sig())), 'FOREIGN_VM_NOT_FOUND')).toBe(true);
  });

  it('snapshot tree: create, revert, branch, remove a parent (its children move up), memory flag', async () => {
    const vm = 'DC0_C0_RP0_VM1';
    const sn = session.snapshots!;
    if ((await session.get(vm, sig())).state !== 'stopped') await session.power!.kill!(vm, sig());
    await sn.create(vm, { name: 'base', description: 'first', memory: false }, sig());
    await sn.create(vm, { name: 'update-1', memory: false }, sig());
    await sn.revert(vm, 'base', sig());
    await sn.create(vm, { name: 'update-2', memory: false }, sig());
    let tree = await sn.list(vm, sig());
    expect(tree.map((s) => [s.name, s.parent, s.current])).toEqual([
      ['base', null, false], ['update-1', 'base', false], ['update-2', 'base', true],
    ]);
    expect(tree[0]!.description).toBe('first');
    expect(tree.every((s) => !s.memory), 'snapshots of a stopped VM hold no RAM').toBe(true);
    expect(isPolyvisorError(await errorOf(sn.create(vm, { name: 'base', memory: false }, sig())), 'SNAPSHOT_EXISTS')).toBe(true);
    expect(isPolyvisorError(await errorOf(sn.revert(vm, 'nope', sig())), 'SNAPSHOT_NOT_FOUND')).toBe(true);

    // A running VM's memory snapshot: reverting to it gives a running VM.
    await session.power!.start!(vm, sig());
    await sn.create(vm, { name: 'live', memory: true }, sig());
    await session.power!.kill!(vm, sig());
    await sn.revert(vm, 'live', sig());
    expect((await session.get(vm, sig())).state).toBe('running');
    expect((await sn.list(vm, sig())).find((s) => s.name === 'live')).toMatchObject({ parent: 'update-2', memory: true, current: true });
    await session.power!.kill!(vm, sig());

    await sn.remove(vm, 'base', sig());
    tree = await sn.list(vm, sig());
    expect(tree.map((s) => [s.name, s.parent])).toEqual([['update-1', null], ['update-2', null], ['live', 'update-2']]);
    // This order on purpose: vcsim 0.24 (the simulator) panics removing the current snapshot while it is a
    // root and other roots remain (a nil parent it cannot assign); vCenter does not.
    for (const n of ['update-1', 'live', 'update-2']) await sn.remove(vm, n, sig());
    expect(await sn.list(vm, sig())).toEqual([]);
  });

  it('vMotion: a running VM moves to another host of the cluster, with task progress; an unknown host is refused', async () => {
    const vm = 'DC0_C0_RP0_VM1';
    await session.power!.start!(vm, sig());
    const from = (await session.get(vm, sig())).host!;
    const to = (await session.info(sig())).clusters[0]!.hosts.find((h) => h !== from)!;
    const progress: number[] = [];
    await session.migration!.migrate(vm, to, sig(), (f) => progress.push(f));
    const after = await session.get(vm, sig());
    expect(after.host).toBe(to);
    expect(after.state).toBe('running');
    expect(progress[progress.length - 1]).toBe(1);
    const err = await errorOf(session.migration!.migrate(vm, 'no-such-host', sig()));
    expect(isPolyvisorError(err, 'INVALID_ARGUMENT')).toBe(true);
    expect(String((err as Error).message)).toContain('DC0_C0_H0');
    await session.power!.kill!(vm, sig());
  });

  it('exports a stopped VM\'s disk over datastore HTTP access: the bytes equal what is on the datastore', async () => {
    const vm = 'DC0_H0_VM0';
    if ((await session.get(vm, sig())).state !== 'stopped') await session.power!.kill!(vm, sig());
    // The test guest's disk as a monolithicSparse vmdk, put where vcsim keeps the VM's disk1.vmdk.
    const vmdk = path.join(work, 'guest.vmdk');
    const conv = spawnSync('qemu-img', ['convert', '-O', 'vmdk', testGuest().disk, vmdk], { encoding: 'utf8', timeout: 120_000 });
    expect(conv.status, conv.stderr).toBe(0);
    const source = readFileSync(vmdk);
    await upload(`${vm}/disk1.vmdk`, source);

    const disks = await session.exporter!.disks(vm, sig());
    expect(disks).toHaveLength(1);
    expect(disks[0]).toMatchObject({ name: (await session.get(vm, sig())).disks[0]!.name, format: 'vmdk', sizeBytes: source.length });
    const got = await readStream(await disks[0]!.open(sig()));
    expect(got.length).toBe(source.length);
    expect(sha(got)).toBe(sha(source));

    // A descriptor with a flat extent (how ESXi keeps disks): the extent's raw bytes are handed over.
    const raw = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < raw.length; i += 4) raw.writeUInt32LE((i * 2654435761) >>> 0, i);
    await upload('DC0_H0_VM1/disk1.vmdk', Buffer.from(
      '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="vmfs"\n\n# Extent description\nRW 6144 VMFS "disk1-flat.vmdk"\n\nddb.adapterType = "lsilogic"\n',
    ));
    await upload('DC0_H0_VM1/disk1-flat.vmdk', raw);
    if ((await session.get('DC0_H0_VM1', sig())).state !== 'stopped') await session.power!.kill!('DC0_H0_VM1', sig());
    const flat = await session.exporter!.disks('DC0_H0_VM1', sig());
    expect(flat[0]).toMatchObject({ format: 'raw', sizeBytes: raw.length });
    expect(sha(await readStream(await flat[0]!.open(sig())))).toBe(sha(raw));

    const { spec, lossy } = await session.exporter!.toSpec(vm, sig());
    const v = await session.get(vm, sig());
    expect(spec.name).toBe('dc0_h0_vm0');
    expect(spec.cpu.count).toBe(v.cpus);
    expect(spec.memory).toBe(v.memoryBytes);
    expect(spec.disks).toHaveLength(1);
    expect(spec.networks[0]!.mac).toBe(v.nics[0]!.mac);
    expect(lossy.join('\n')).toContain(v.nics[0]!.network!);

    // A running VM's disks are not copied.
    await session.power!.start!(vm, sig());
    expect(isPolyvisorError(await errorOf(session.exporter!.disks(vm, sig())), 'FOREIGN_VM_RUNNING')).toBe(true);
    await session.power!.kill!(vm, sig());
  });

  it('reconfigure and clone: CPU and memory change; a clone appears powered off', async () => {
    const vm = 'DC0_H0_VM0';
    await session.reconfigure!.setCpuMemory(vm, { cpus: 3, memoryBytes: 512 * 1024 * 1024 }, sig());
    expect(await session.get(vm, sig())).toMatchObject({ cpus: 3, memoryBytes: 512 * 1024 * 1024 });
    expect(isPolyvisorError(await errorOf(session.reconfigure!.setCpuMemory(vm, { memoryBytes: 1000 }, sig())), 'INVALID_ARGUMENT')).toBe(true);
    const c = await session.clone!.clone(vm, 'web-copy', sig());
    expect(c).toMatchObject({ name: 'web-copy', state: 'stopped', cpus: 3 });
    expect(c.id).not.toBe((await session.get(vm, sig())).id);
  });

  it('faults: wrong password, closed port, untrusted certificate, a non-https URL', async () => {
    const auth = await errorOf(driver.connect(conn({ password: 'wrong-password' }), sig()));
    expect(isPolyvisorError(auth, 'ENDPOINT_AUTH_FAILED'), String(auth)).toBe(true);
    expect(String((auth as Error).message)).not.toContain('wrong-password');

    const port = await freePort();
    const closed = await errorOf(driver.connect(conn({ url: `https://127.0.0.1:${port}/sdk` }), sig()));
    expect(isPolyvisorError(closed, 'ENDPOINT_UNREACHABLE'), String(closed)).toBe(true);

    const untrusted = await errorOf(driver.connect(conn({ ca: undefined }), sig()));
    expect(isPolyvisorError(untrusted, 'ENDPOINT_TLS_UNTRUSTED'), String(untrusted)).toBe(true);
    // insecure (a lab's choice) skips the check.
    const lab = await driver.connect(conn({ ca: undefined, insecure: true }), sig());
    expect((await lab.info(sig())).product).toContain('vCenter');
    // close() ends a watch still long-polling (no error reported for it) and logs out.
    const errors: Error[] = [];
    lab.events!.watch(() => undefined, (e) => errors.push(e));
    await new Promise((r) => setTimeout(r, 500));
    await lab.close();
    expect(errors).toEqual([]);

    const plain = await errorOf(driver.connect(conn({ url: sim.url.replace('https:', 'http:') }), sig()));
    expect(isPolyvisorError(plain, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('a session ended behind the driver\'s back (as vCenter\'s idle timeout does) is renewed: calls and a watch go on', async () => {
    const s = (await driver.connect(conn(), sig())) as VsphereSession;
    const vm = 'DC0_H0_VM1';
    const seen: string[] = [];
    const errors: Error[] = [];
    const stop = s.events!.watch((c) => c.vm === vm && seen.push(c.state ?? ''), (e) => errors.push(e));
    try {
      if ((await s.get(vm, sig())).state !== 'stopped') await s.power!.kill!(vm, sig());
      await s.list(sig());
      await s.soap.call('Logout', s.soap.content.sessionManager, {}, sig());
      // vcsim answers property reads without a session; a power operation needs one: NotAuthenticated, re-login, repeat.
      await s.power!.start!(vm, sig());
      expect(s.soap.generation).toBe(1);
      expect((await s.list(sig())).find((v) => v.name === vm)!.state, 'the list works with a new container view').toBe('running');
      await s.power!.kill!(vm, sig());
      const until = Date.now() + 20_000;
      while (Date.now() < until && seen[seen.length - 1] !== 'stopped') await new Promise((r) => setTimeout(r, 100));
      expect(seen[seen.length - 1], 'the watch reports the power-off after the re-login').toBe('stopped');
      expect(errors).toEqual([]);
    } finally {
      stop();
      await s.close();
    }
  });

  it('vcsim killed mid-call: a disk download, the events long-poll and the next call fail with ENDPOINT_LOST, no hang', async () => {
    const doomed = await startVcsim({ hosts: 1, vms: 1 });
    const s = await driver.connect({ name: 'doomed', url: doomed.url, user: doomed.user, password: doomed.password, ca: doomed.ca }, sig());
    // A 64 MiB "vmdk" (KDMV magic, then zeros) to be half-read when vcsim dies.
    const big = Buffer.alloc(64 * 1024 * 1024);
    big.write('KDMV');
    await upload('DC0_H0_VM0/disk1.vmdk', big, doomed);
    if ((await s.get('DC0_H0_VM0', sig())).state !== 'stopped') await s.power!.kill!('DC0_H0_VM0', sig());
    const [disk] = await s.exporter!.disks('DC0_H0_VM0', sig());
    expect(disk!.sizeBytes).toBe(big.length);
    const stream = (await disk!.open(AbortSignal.timeout(60_000))) as NodeJS.ReadableStream & { pause(): void };
    const first = await new Promise<Buffer>((resolve) => stream.once('data', (c: Buffer) => {
      stream.pause();
      resolve(c);
    }));
    expect(first.subarray(0, 4).toString()).toBe('KDMV');

    let stop: (() => void) | null = null;
    const watchErr = new Promise<Error>((resolve) => {
      stop = s.events!.watch(() => undefined, resolve);
    });
    // Let the watch reach its long-poll (WaitForUpdatesEx held open by the server), then kill vcsim.
    await s.list(sig());
    await new Promise((r) => setTimeout(r, 1_000));
    await doomed.kill();
    const rest = await errorOf((async () => {
      let n = first.length;
      for await (const c of stream) n += (c as Buffer).length;
      if (n < big.length) throw new Error(`the stream ended after ${n} bytes without an error`);
    })());
    expect(isPolyvisorError(rest, 'ENDPOINT_LOST'), String(rest)).toBe(true);
    const lost = await Promise.race([watchErr, new Promise<string>((r) => setTimeout(() => r('no error within 30 s'), 30_000))]);
    expect(isPolyvisorError(lost, 'ENDPOINT_LOST'), String(lost)).toBe(true);
    const next = await errorOf(s.list(AbortSignal.timeout(30_000)));
    expect(isPolyvisorError(next, 'ENDPOINT_LOST'), String(next)).toBe(true);
    stop!();
    await s.close();
  });

});
