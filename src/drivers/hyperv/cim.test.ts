import { describe, expect, it } from 'vitest';
import { parseForeignXml } from '../../interchange/safe-xml.js';
import { arr, embedded, pathHost, pathKey, readInstance, str } from './cim.js';
import { cimDateIso } from './snapshots.js';

describe('WMI instances over WS-Man', () => {
  it('reads properties: nil ones as null, repeated ones as arrays, entities decoded', () => {
    const el = parseForeignXml(`<p:Msvm_StorageAllocationSettingData xmlns:p="x" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
      <p:InstanceID>Microsoft:A\\B</p:InstanceID><p:Parent xsi:nil="true"/><p:HostResource>C:\\a &amp; b.vhdx</p:HostResource><p:HostResource>D:\\c.vhdx</p:HostResource>
    </p:Msvm_StorageAllocationSettingData>`, 't');
    const i = readInstance(el);
    expect(i.cls).toBe('Msvm_StorageAllocationSettingData');
    expect(str(i, 'InstanceID')).toBe('Microsoft:A\\B');
    expect(i.props['Parent']).toBeNull();
    expect(arr(i, 'HostResource')).toEqual(['C:\\a & b.vhdx', 'D:\\c.vhdx']);
    expect(arr(i, 'Missing')).toEqual([]);
  });

  it('reads the key of a WMI object path, its backslashes and quotes unescaped', () => {
    const p = '\\\\HV1\\root\\virtualization\\v2:Msvm_ResourceAllocationSettingData.InstanceID="Microsoft:GUID\\\\83F8\\\\0\\\\0\\\\D"';
    expect(pathKey(p, 'InstanceID')).toBe('Microsoft:GUID\\83F8\\0\\0\\D');
    expect(pathHost(p)).toBe('HV1');
    expect(pathKey('\\\\H\\root\\virtualization\\v2:Msvm_VirtualEthernetSwitch.CreationClassName="Msvm_VirtualEthernetSwitch",Name="AB-1"', 'Name')).toBe('AB-1');
    expect(pathKey(null, 'Name')).toBeNull();
  });

  it('writes embedded instances in CIM-XML with values escaped', () => {
    expect(embedded('Msvm_X', { ElementName: { type: 'string', value: 'a<b' }, Tags: { type: 'string', value: ['x', 'y'] } })).toBe(
      '<INSTANCE CLASSNAME="Msvm_X"><PROPERTY NAME="ElementName" TYPE="string"><VALUE>a&lt;b</VALUE></PROPERTY>'
      + '<PROPERTY.ARRAY NAME="Tags" TYPE="string"><VALUE.ARRAY><VALUE>x</VALUE><VALUE>y</VALUE></VALUE.ARRAY></PROPERTY.ARRAY></INSTANCE>');
  });

  it('reads CIM datetimes with their UTC offset in minutes', () => {
    expect(cimDateIso('20261205061500.123000+000')).toBe('2026-12-05T06:15:00.123Z');
    expect(cimDateIso('20261205071500.000000+060')).toBe('2026-12-05T06:15:00.000Z');
    expect(cimDateIso('not a date')).toBeNull();
  });
});
