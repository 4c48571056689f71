/** The vSphere driver's pure parts: envelopes, faults, devices, snapshot trees, update sets, datastore files, toSpec. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../../shared/index.js';
import { folderUrlPath, parseDatastorePath, sibling, sniffVmdk } from './datastore-files.js';
import { readDevices } from './devices.js';
import { readChange } from './events.js';
import { faultError } from './faults.js';
import { readObjects } from './property-collector.js';
import { envelope, moRef, parseResponse, type Node } from './soap-envelope.js';
import { flattenTree } from './snapshots.js';
import { specName, vmToSpec } from './to-spec.js';

const GOLDEN = path.resolve(import.meta.dirname, '../../../test/golden/vsphere');
const parseBody = (inner: string): Node => {
  const r = parseResponse(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><XResponse xmlns="urn:vim25">${inner}</XResponse></soapenv:Body></soapenv:Envelope>`);
  if (!r.ok) throw new Error('fault');
  return r.body;
};

describe('vSphere SOAP envelopes and faults', () => {
  it('writes MoRefs, xsi:types, repeats and escapes', () => {
    const x = envelope('RetrievePropertiesEx', moRef('PropertyCollector', 'propertyCollector'), {
      specSet: { propSet: { type: 'VirtualMachine', pathSet: ['name', 'runtime.powerState'] }, objectSet: { obj: moRef('ContainerView', 'v<1>'), skip: true, selectSet: { $type: 'TraversalSpec', name: 'view' } } },
      note: 'a & b',
    });
    expect(x).toContain('<_this type="PropertyCollector">propertyCollector</_this>');
    expect(x).toContain('<pathSet>name</pathSet><pathSet>runtime.powerState</pathSet>');
    expect(x).toContain('<obj type="ContainerView">v&lt;1&gt;</obj>');
    expect(x).toContain('<selectSet xsi:type="TraversalSpec"><name>view</name></selectSet>');
    expect(x).toContain('<note>a &amp; b</note>');
  });

  it('maps faults to the catalogue, whatever prefix the server gives xsi', () => {
    const fault = (type: string, prefix = 'xsi'): ReturnType<typeof parseResponse> => parseResponse(
      `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>it said no</faultstring><detail><${type}Fault xmlns="urn:vim25" ${prefix}:type="${type}"></${type}Fault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
    );
    const codes: Record<string, string> = { InvalidLogin: 'ENDPOINT_AUTH_FAILED', ManagedObjectNotFound: 'FOREIGN_VM_NOT_FOUND', InvalidPowerState: 'INVALID_TRANSITION', FileNotFound: 'ENDPOINT_TASK_FAILED' };
    for (const [type, code] of Object.entries(codes)) {
      const r = fault(type, type === 'InvalidLogin' ? 'XMLSchema-instance' : 'xsi');
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.fault.type).toBe(type);
      const e = faultError(r.fault, 'Login', 'web');
      expect(isPolyvisorError(e, code as never), `${type} → ${code}`).toBe(true);
    }
    const r = fault('FileNotFound');
    if (!r.ok) expect(faultError(r.fault, 'clone').message).toContain('it said no');
  });
});

describe('vSphere inventory shapes', () => {
  it('reads disks and NICs of a vcsim VM', () => {
    const r = parseResponse(readFileSync(path.join(GOLDEN, 'retrieve-vm.xml'), 'utf8'));
    if (!r.ok) throw new Error('fault');
    const [vm] = readObjects((r.body.returnval as Node).objects);
    const d = readDevices(vm!.props['config.hardware.device']);
    expect(d.disks).toEqual([expect.objectContaining({ location: '[LocalDS_0] DC0_H0_VM0/disk1.vmdk', format: 'vmdk', sizeBytes: 1024 * 1024, hasParent: false, backing: 'VirtualDiskFlatVer2BackingInfo' })]);
    expect(d.nics).toEqual([expect.objectContaining({ model: 'e1000', mac: expect.stringMatching(/^00:0c:29:/) })]);
    expect([...d.controllers.values()]).toContain('ParaVirtualSCSIController');
  });

  it('flattens a snapshot tree with parents, the current one and the memory flag', () => {
    const b = parseBody(`<snapshot><currentSnapshot type="VirtualMachineSnapshot">snap-3</currentSnapshot>
      <rootSnapshotList><snapshot type="VirtualMachineSnapshot">snap-1</snapshot><name>base</name><description>d</description><createTime>2026-01-01T00:00:00Z</createTime><state>poweredOff</state>
        <childSnapshotList><snapshot type="VirtualMachineSnapshot">snap-2</snapshot><name>a</name><state>poweredOff</state></childSnapshotList>
        <childSnapshotList><snapshot type="VirtualMachineSnapshot">snap-3</snapshot><name>b</name><state>poweredOn</state></childSnapshotList>
      </rootSnapshotList></snapshot>`);
    expect(flattenTree(b.snapshot).map((s) => [s.name, s.parent, s.current, s.memory])).toEqual([
      ['base', null, false, false], ['a', 'base', false, false], ['b', 'base', true, true],
    ]);
    expect(flattenTree(undefined)).toEqual([]);
  });

  it('turns WaitForUpdatesEx object updates into changes, learning names', () => {
    const names = new Map<string, string>();
    const enter = parseBody('<o><kind>enter</kind><obj type="VirtualMachine">vm-1</obj><changeSet><name>name</name><op>assign</op><val>web</val></changeSet><changeSet><name>runtime.powerState</name><op>assign</op><val>poweredOff</val></changeSet></o>').o as Node;
    expect(readChange(enter, names)).toEqual({ vm: 'web', state: 'stopped' });
    const on = parseBody('<o><kind>modify</kind><obj type="VirtualMachine">vm-1</obj><changeSet><name>runtime.powerState</name><op>assign</op><val>suspended</val></changeSet></o>').o as Node;
    expect(readChange(on, names)).toEqual({ vm: 'web', state: 'suspended' });
    const leave = parseBody('<o><kind>leave</kind><obj type="VirtualMachine">vm-1</obj></o>').o as Node;
    expect(readChange(leave, names)).toEqual({ vm: 'web', gone: true });
    expect(names.size).toBe(0);
  });
});

describe('datastore files', () => {
  it('parses datastore paths and builds /folder URLs, refusing ..', () => {
    const p = parseDatastorePath('[Local DS] my vm/disk 1.vmdk')!;
    expect(p).toEqual({ datastore: 'Local DS', path: 'my vm/disk 1.vmdk' });
    expect(folderUrlPath(p, 'DC 0/x')).toBe('/folder/my%20vm/disk%201.vmdk?dcPath=DC%200%2Fx&dsName=Local%20DS');
    expect(parseDatastorePath('[ds] ../etc/passwd')).toBeNull();
    expect(parseDatastorePath('no brackets')).toBeNull();
    expect(sibling(p, 'disk 1-flat.vmdk')).toEqual({ datastore: 'Local DS', path: 'my vm/disk 1-flat.vmdk' });
    expect(sibling(p, '../other.vmdk')).toBeNull();
  });

  it('sniffs sparse vmdks, descriptors with their extents, and empty files', () => {
    expect(sniffVmdk(Buffer.from('KDMV\x01\x00\x00\x00'))).toEqual({ kind: 'sparse' });
    expect(sniffVmdk(Buffer.alloc(0))).toEqual({ kind: 'empty' });
    expect(sniffVmdk(Buffer.from('\x00\x00garbage'))).toEqual({ kind: 'unknown' });
    const d = sniffVmdk(Buffer.from('# Disk DescriptorFile\nversion=1\ncreateType="vmfs"\n\nRW 2048 VMFS "web-flat.vmdk"\n'));
    expect(d).toEqual({ kind: 'descriptor', createType: 'vmfs', extents: [{ access: 'RW', sectors: 2048, type: 'VMFS', file: 'web-flat.vmdk', offset: 0 }] });
  });
});

describe('toSpec', () => {
  it('maps a vcsim-like config and lists what does not map', () => {
    const b = parseBody(`<config><name>Web Server 01</name><guestId>ubuntu64Guest</guestId><annotation>front end</annotation><firmware>efi</firmware>
      <hardware><numCPU>4</numCPU><numCoresPerSocket>2</numCoresPerSocket><memoryMB>2048</memoryMB>
        <device xsi:type="VirtualIDEController" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><key>200</key></device>
        <device xsi:type="VirtualLsiLogicController" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><key>1000</key></device>
        <device xsi:type="VirtualDisk" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><key>2000</key><deviceInfo><label>Hard disk 1</label></deviceInfo><backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName>[ds] web/web.vmdk</fileName></backing><controllerKey>1000</controllerKey><unitNumber>0</unitNumber><capacityInKB>10485760</capacityInKB></device>
        <device xsi:type="VirtualCdrom" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><key>3000</key><controllerKey>200</controllerKey></device>
        <device xsi:type="VirtualVmxnet3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><key>4000</key><backing><deviceName>VM Network</deviceName></backing><macAddress>00:50:56:AB:CD:EF</macAddress></device>
      </hardware></config>`);
    const { spec, lossy } = vmToSpec('Web Server 01', b.config as Node);
    expect(spec).toMatchObject({
      name: 'web-server-01', description: 'front end', labels: { 'vsphere-guest-id': 'ubuntu64Guest' },
      cpu: { count: 4, sockets: 2, cores: 2 }, memory: 2048 * 1024 * 1024, boot: { firmware: 'uefi' },
      disks: [{ name: 'disk0', size: 10 * 1024 ** 3, bus: 'scsi', format: 'qcow2' }],
      networks: [{ name: 'net0', model: 'virtio', mac: '00:50:56:ab:cd:ef' }],
    });
    const all = lossy.join('\n');
    for (const w of ['became "web-server-01"', 'vmxnet3 became virtio', '"VM Network"', 'VirtualCdrom', 'ubuntu64Guest']) expect(all).toContain(w);
    expect(specName('...')).toBe('vsphere-vm');
  });
});
