/**
 * The Hyper-V driver against a FAKE Hyper-V (test/fakes/hyperv): no Hyper-V
 * host can run here, so two fake hosts serve WinRM's WS-Management over HTTPS
 * with the classes of Microsoft's published WMI v2 schema (Msvm_*, excerpted
 * with sources in test/fakes/hyperv/schema.ts), run methods as jobs
 * (Msvm_ConcreteJob), and keep disks as real VHDX files made with qemu-img.
 * No QEMU guest runs in this file.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndpointConnection, EndpointSession } from '../src/drivers/index.js';
import { createHypervDriver } from '../src/drivers/hyperv/index.js';
import { str } from '../src/drivers/hyperv/cim.js';
import { Transport } from '../src/drivers/hyperv/transport.js';
import { WsmanClient } from '../src/drivers/hyperv/wsman.js';
import { isPolyvisorError } from '../src/shared/index.js';
import { describeConformance, errorOf } from './helpers/driver-conformance.js';
import { limit } from './helpers/limits.js';
import { makeSelfSignedCert } from './fakes/proxmox/cert.js';
import { FAKE_PASSWORD, FAKE_USER, startFakeHyperv, type FakeHyperv } from './fakes/hyperv/server.js';

const driver = createHypervDriver({ pollMs: 20 });
const sig = (): AbortSignal => AbortSignal.timeout(limit('operation'));
const codeOf = async (p: Promise<unknown>): Promise<string> => {
  const e = await errorOf(p);
  return e === undefined ? 'resolved' : isPolyvisorError(e) ? e.code : `plain: ${String(e)}`;
};

describe('Hyper-V driver against a fake WinRM/WMI v2 built from Microsoft\'s published schema (no real Hyper-V here)', () => {
  let fake: FakeHyperv;
  let session: EndpointSession;
  const exportDir = mkdtempSync(path.join(os.tmpdir(), 'pv-hv-export-'));
  const url = (extra = ''): string => `${fake.hosts[0]!.url}?peer=${encodeURIComponent(fake.hosts[1]!.url)}&exportDir=${encodeURIComponent(exportDir)}${extra}`;
  const conn = (over: Partial<EndpointConnection> = {}): EndpointConnection => ({ name: 'hv', url: url(), user: FAKE_USER, password: FAKE_PASSWORD, ca: fake.ca, ...over });

  beforeAll(async () => {
    fake = await startFakeHyperv({
      stepMs: 20,
      vms: [
        { name: 'web', gen: 2, cpus: 2, memMiB: 1024 },
        { name: 'legacy', gen: 1, cpus: 1, memMiB: 768, dynamicMemory: true, disks: [{ sizeMiB: 16 }, { sizeMiB: 4 }], nics: 2, notes: 'an old Windows Server 2008' },
        { name: 'app', gen: 2, host: 'HV2', state: 'running' },
      ],
    });
    session = await driver.connect(conn(), sig());
  });
  afterAll(async () => {
    await session?.close();
    await fake?.stop();
    rmSync(exportDir, { recursive: true, force: true });
  });

  describeConformance(driver, { session: () => session, vm: 'web', otherHost: () => 'HV2', stateWaitMs: limit('state'), alsoShown: ['import', 'export'] });

  it('inventory of two hosts: Generation 1 (BIOS, IDE, DVD left out) and Generation 2 (UEFI, SCSI), NICs with their switches', async () => {
    const info = await session.info(sig());
    expect(info.hosts).toEqual(['HV1', 'HV2']);
    const all = await session.list(sig());
    expect(all.map((v) => `${v.name}@${v.host}`).sort()).toEqual(expect.arrayContaining(['app@HV2', 'legacy@HV1']));
    const legacy = await session.get('legacy', sig());
    expect(legacy).toMatchObject({ state: 'stopped', cpus: 1, memoryBytes: 768 * 1024 ** 2, host: 'HV1', firmware: 'bios' });
    expect(legacy.disks.map((d) => [d.name, d.format, d.location])).toEqual([
      ['ide0-0', 'vhdx', 'C:\\ProgramData\\Microsoft\\Windows\\Virtual Hard Disks\\legacy.vhdx'],
      ['ide0-1', 'vhdx', 'C:\\ProgramData\\Microsoft\\Windows\\Virtual Hard Disks\\legacy_1.vhdx'],
    ]);
    expect(legacy.nics.map((n) => n.network)).toEqual(['Default Switch', 'External']);
    expect(legacy.nics[0]!.mac).toMatch(/^00:15:5d:01:00:[0-9a-f]{2}$/);
    const app = await session.get('app', sig());
    expect(app).toMatchObject({ state: 'running', firmware: 'uefi', host: 'HV2' });
    expect(app.disks.map((d) => d.name)).toEqual(['scsi0-0']);
    expect((await session.get(legacy.id, sig())).name).toBe('legacy');

    const g1 = await session.exporter!.toSpec('legacy', sig());
    expect(g1.spec.boot.firmware).toBe('bios');
    expect(g1.spec.disks.map((d) => d.bus)).toEqual(['ide', 'ide']);
    expect(g1.spec.description).toBe('an old Windows Server 2008');
    expect(g1.spec.networks.map((n) => n.mac)).toEqual(legacy.nics.map((n) => n.mac));
    expect(g1.lossy.join('\n')).toMatch(/dynamic memory was on/);
    expect(g1.lossy.join('\n')).toMatch(/switch "External"/);
    const g2 = await session.exporter!.toSpec('app', sig());
    expect(g2.spec.boot.firmware).toBe('uefi');
    expect(g2.spec.disks.map((d) => d.bus)).toEqual(['scsi']);
    expect(g2.lossy.join('\n')).toMatch(/Secure Boot was on/);
  });

  it('libvirt\'s Hyper-V driver\'s own WQL queries (libvirt src/hyperv/hyperv_wmi_classes.h and hyperv_driver.c, replayed verbatim) get the answers WMI gives', async () => {
    const t = new Transport({ label: 'replay', url: new URL(fake.hosts[1]!.url), user: FAKE_USER, password: FAKE_PASSWORD, ca: fake.ca, requestTimeoutMs: 30_000 });
    try {
      const c = new WsmanClient(t);
      // MSVM_COMPUTERSYSTEM_WQL_SELECT "where " MSVM_COMPUTERSYSTEM_WQL_VIRTUAL "and " MSVM_COMPUTERSYSTEM_WQL_ACTIVE (hypervConnectListDomains).
      const active = await c.query('select * from Msvm_ComputerSystem where Description = "Microsoft Virtual Machine" and (EnabledState != 0 and EnabledState != 3 and EnabledState != 32769) ', sig());
      const all = await c.query('select * from Msvm_ComputerSystem where Description = "Microsoft Virtual Machine" ', sig());
      const host = await c.query('select * from Msvm_ComputerSystem where Description = "Microsoft Hosting Computer System" ', sig());
      const onHv2 = (await session.list(sig())).filter((v) => v.host === 'HV2');
      expect(all.map((i) => str(i, 'ElementName')).sort()).toEqual(onHv2.map((v) => v.name).sort());
      expect(active.map((i) => str(i, 'ElementName')).sort()).toEqual(onHv2.filter((v) => v.state === 'running').map((v) => v.name).sort());
      expect(active.length).toBeGreaterThan(0);
      expect(host.map((i) => str(i, 'Name'))).toEqual(['HV2']);
      // hypervDomainLookupByUUID: the VM by its GUID.
      const guid = onHv2[0]!.id;
      const one = await c.query(`select * from Msvm_ComputerSystem where Description = "Microsoft Virtual Machine" and Name = "${guid}"`, sig());
      expect(one.map((i) => str(i, 'Name'))).toEqual([guid]);
      // What the fake does not model is refused, not guessed: an OR.
      expect(await codeOf(c.query('select * from Msvm_ComputerSystem where Name = "a" or Name = "b"', sig()))).toBe('ENDPOINT_PROTOCOL');
    } finally {
      t.close();
    }
  });

  it('Hyper-V refusing a transition (32775) is INVALID_TRANSITION; an unknown VM FOREIGN_VM_NOT_FOUND', async () => {
    expect(await codeOf(session.power!.start!('app', sig()))).toBe('INVALID_TRANSITION');
    expect(await codeOf(session.power!.pause!('legacy', sig()))).toBe('INVALID_TRANSITION');
    expect(await codeOf(session.power!.start!('nope', sig()))).toBe('FOREIGN_VM_NOT_FOUND');
    expect(await codeOf(session.snapshots!.revert('legacy', 'no-such', sig()))).toBe('SNAPSHOT_NOT_FOUND');
  });

  it('a live migration is followed through its Msvm_ConcreteJob to completion, with PercentComplete as progress', async () => {
    const from = fake.requests.length;
    const seen: number[] = [];
    await session.migration!.migrate('app', 'HV1', sig(), (f) => seen.push(f));
    expect(await session.get('app', sig())).toMatchObject({ host: 'HV1', state: 'running' });
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe(1);
    const mine = fake.requests.slice(from);
    expect(mine.some((r) => r.host === 'HV2' && r.action.endsWith('Msvm_VirtualSystemMigrationService/MigrateVirtualSystemToHost'))).toBe(true);
    expect(mine.filter((r) => r.action.endsWith('transfer/Get') && r.resourceUri.endsWith('Msvm_ConcreteJob')).length).toBeGreaterThanOrEqual(3);
    expect(await codeOf(session.migration!.migrate('app', 'HV9', sig()))).toBe('INVALID_ARGUMENT');
  });

  it('a migration job that fails halfway is ENDPOINT_TASK_FAILED with Hyper-V\'s words, and the VM stays where it was', async () => {
    fake.failJob({ method: 'MigrateVirtualSystemToHost', atPercent: 50, message: "Virtual machine migration operation for 'app' failed at migration source 'HV1'." });
    const err = await errorOf(session.migration!.migrate('app', 'HV2', sig()));
    expect(isPolyvisorError(err, 'ENDPOINT_TASK_FAILED'), String(err)).toBe(true);
    expect((err as Error).message).toContain('failed at migration source');
    expect((await session.get('app', sig())).host).toBe('HV1');
  });

  it('wrong credentials are ENDPOINT_AUTH_FAILED without the password in the message; TLS, URL and unreachable faults are typed', async () => {
    const bad = await errorOf(driver.connect(conn({ password: 'not-the-password' }), sig()));
    expect(isPolyvisorError(bad, 'ENDPOINT_AUTH_FAILED')).toBe(true);
    expect((bad as Error).message).not.toContain('not-the-password');
    expect(await codeOf(driver.connect(conn({ ca: undefined }), sig()))).toBe('ENDPOINT_TLS_UNTRUSTED');
    const other = await makeSelfSignedCert('other.invalid');
    expect(await codeOf(driver.connect(conn({ ca: other.cert }), sig()))).toBe('ENDPOINT_TLS_UNTRUSTED');
    expect(await codeOf(driver.connect(conn({ url: fake.hosts[0]!.url.replace('https:', 'http:') }), sig()))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(driver.connect(conn({ url: `${fake.hosts[0]!.url}?bogus=1` }), sig()))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(driver.connect(conn({ url: 'https://127.0.0.1:9/wsman' }), sig()))).toBe('ENDPOINT_UNREACHABLE');
    expect(await codeOf(driver.connect(conn({ user: undefined, password: undefined, token: 'x' }), sig()))).toBe('INVALID_ARGUMENT');
  });

  it('an export job that fails halfway is ENDPOINT_TASK_FAILED and leaves nothing in the export folder', async () => {
    const before = readdirSync(exportDir);
    fake.failJob({ method: 'ExportSystemDefinition', atPercent: 50, message: "Failed to copy file 'legacy.vhdx': There is not enough space on the disk. (0x80070070)." });
    const err = await errorOf(session.exporter!.disks('legacy', sig()));
    expect(isPolyvisorError(err, 'ENDPOINT_TASK_FAILED'), String(err)).toBe(true);
    expect((err as Error).message).toContain('not enough space');
    expect(readdirSync(exportDir)).toEqual(before);
  });

  it('every instance the fake served carried only properties of the schema excerpt', () => {
    expect(fake.problems).toEqual([]);
    expect(fake.requests.length).toBeGreaterThan(50);
  });
});

describe('Hyper-V driver: the fake host goes away during an export (no real Hyper-V here)', () => {
  it('ENDPOINT_LOST, no hang, and the partial export is removed', async () => {
    const fake = await startFakeHyperv({ hosts: ['HV1'], stepMs: 200, vms: [{ name: 'big', gen: 1, disks: [{ sizeMiB: 64 }] }] });
    const exportDir = mkdtempSync(path.join(os.tmpdir(), 'pv-hv-export-'));
    try {
      const s = await driver.connect({ name: 'hv1', url: `${fake.hosts[0]!.url}?exportDir=${encodeURIComponent(exportDir)}`, user: FAKE_USER, password: FAKE_PASSWORD, ca: fake.ca }, sig());
      const p = errorOf(s.exporter!.disks('big', sig()));
      const until = Date.now() + limit('state');
      while (!fake.requests.some((r) => r.resourceUri.endsWith('Msvm_ConcreteJob')) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      await fake.stop();
      const err = await p;
      expect(isPolyvisorError(err, 'ENDPOINT_LOST'), String(err)).toBe(true);
      expect(readdirSync(exportDir)).toEqual([]);
      await s.close();
    } finally {
      await fake.stop();
      rmSync(exportDir, { recursive: true, force: true });
    }
  });
});
