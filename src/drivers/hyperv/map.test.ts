import { describe, expect, it } from 'vitest';
import type { CimInstance } from './cim.js';
import { disksOf, generationOf, macOf, nicsOf, stateOf, type VmFacts } from './map.js';
import { parseHypervUrl } from './url.js';

const i = (cls: string, props: CimInstance['props']): CimInstance => ({ cls, props });
const rasdPath = (id: string): string => `\\\\HV1\\root\\virtualization\\v2:Msvm_ResourceAllocationSettingData.InstanceID="${id.replace(/\\/g, '\\\\')}"`;

function facts(over: Partial<VmFacts>): VmFacts {
  return { host: 'HV1', system: i('Msvm_ComputerSystem', { Name: 'G', ElementName: 'vm', EnabledState: '3' }), settings: null, memory: null, processor: null, rasd: [], storage: [], ports: [], connections: [], switches: new Map(), ...over };
}

describe('Hyper-V instances mapped to neutral fields', () => {
  it('states, generations and MACs', () => {
    expect([2, 3, 6, 9, 10, null].map(stateOf)).toEqual(['running', 'stopped', 'suspended', 'paused', 'unknown', 'unknown']);
    expect(generationOf(i('Msvm_VirtualSystemSettingData', { VirtualSystemSubType: 'Microsoft:Hyper-V:SubType:2' }))).toBe(2);
    expect(generationOf(i('Msvm_VirtualSystemSettingData', { VirtualSystemSubType: null }))).toBe(1);
    expect(macOf('00155D0A0B0C')).toBe('00:15:5d:0a:0b:0c');
    expect(macOf('xyz')).toBeNull();
  });

  it('disks in controller order, the DVD drive\'s image left out; NICs with their switch names', () => {
    const f = facts({
      rasd: [
        i('R', { InstanceID: 'Microsoft:G\\S', ResourceType: '6' }),
        i('R', { InstanceID: 'Microsoft:G\\S\\1\\D', ResourceType: '17', Parent: rasdPath('Microsoft:G\\S'), AddressOnParent: '1' }),
        i('R', { InstanceID: 'Microsoft:G\\S\\0\\D', ResourceType: '17', Parent: rasdPath('Microsoft:G\\S'), AddressOnParent: '0' }),
        i('R', { InstanceID: 'Microsoft:G\\S\\2\\D', ResourceType: '16', Parent: rasdPath('Microsoft:G\\S'), AddressOnParent: '2' }),
      ],
      storage: [
        i('S', { ResourceType: '31', HostResource: ['D:\\b.vhdx'], Parent: rasdPath('Microsoft:G\\S\\1\\D') }),
        i('S', { ResourceType: '31', HostResource: ['D:\\a.VHD'], Parent: rasdPath('Microsoft:G\\S\\0\\D') }),
        i('S', { ResourceType: '31', HostResource: ['D:\\setup.iso'], Parent: rasdPath('Microsoft:G\\S\\2\\D') }),
      ],
      ports: [i('P', { InstanceID: 'Microsoft:G\\N1', Address: '00155D000001' })],
      connections: [i('C', { Parent: '\\\\HV1\\root\\virtualization\\v2:Msvm_SyntheticEthernetPortSettingData.InstanceID="Microsoft:G\\\\N1"', HostResource: ['\\\\HV1\\root\\virtualization\\v2:Msvm_VirtualEthernetSwitch.CreationClassName="Msvm_VirtualEthernetSwitch",Name="SW-1"'] })],
      switches: new Map([['SW-1', 'Default Switch']]),
    });
    expect(disksOf(f).map((d) => [d.name, d.format, d.bus])).toEqual([['scsi0-0', 'vpc', 'scsi'], ['scsi0-1', 'vhdx', 'scsi']]);
    expect(nicsOf(f)).toEqual([{ mac: '00:15:5d:00:00:01', network: 'Default Switch', model: 'hyperv-synthetic' }]);
  });

  it('endpoint URLs: HTTPS on 5986 at /wsman, peers and export folders from the query', () => {
    const u = parseHypervUrl('https://hv1.example.com?peer=hv2.example.com&peer=https://hv3:5999/wsman&exportDir=%5C%5Cpv%5Cimport&exportLocal=/srv/import');
    expect(u.wsman.href).toBe('https://hv1.example.com:5986/wsman');
    expect(u.peers.map((p) => p.href)).toEqual(['https://hv2.example.com:5986/wsman', 'https://hv3:5999/wsman']);
    expect([u.exportDir, u.exportLocal]).toEqual(['\\\\pv\\import', '/srv/import']);
    expect(() => parseHypervUrl('http://hv1:5985/wsman')).toThrow(/HTTPS only/);
    expect(() => parseHypervUrl('https://hv1/other')).toThrow(/WinRM listens on \/wsman/);
    expect(() => parseHypervUrl('https://hv1/wsman?exportDir=C:%5Cx&exportLocal=relative')).toThrow(/absolute path/);
  });
});
