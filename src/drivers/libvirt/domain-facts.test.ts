import { describe, expect, it } from 'vitest';
import { cloneXml } from './clone.js';
import { domainFacts, stateOf, stateOfCode } from './domain-facts.js';
import { parseHosts } from './hosts.js';
import { retargetSerial } from './migration.js';
import { withCpus, withMemory } from './reconfigure.js';

const XML = `<domain type='qemu' id='3'>
  <name>web</name>
  <uuid>7b036f5a-9a11-4030-b07f-03d2cc322f75</uuid>
  <metadata><libosinfo:libosinfo xmlns:libosinfo="http://libosinfo.org/xmlns/libvirt/domain/1.0"><libosinfo:os id="http://debian.org/debian/12"/></libosinfo:libosinfo></metadata>
  <memory unit='KiB'>262144</memory>
  <currentMemory unit='KiB'>262084</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader><nvram>/var/lib/libvirt/qemu/nvram/web_VARS.fd</nvram></os>
  <cpu mode='custom'><topology sockets='1' dies='1' cores='2' threads='1'/></cpu>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/vms/web/root.qcow2'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><source file='/iso/x.iso'/><target dev='sda' bus='sata'/></disk>
    <interface type='network'><mac address='52:54:00:aa:bb:cc'/><source network='default'/><model type='virtio'/></interface>
    <serial type='unix'><source mode='bind' path='/vms/web/serial-0123abcd.sock'/><log file='/vms/web/serial.log' append='on'/><target type='isa-serial' port='0'/></serial>
    <console type='unix'><source mode='bind' path='/vms/web/serial-0123abcd.sock'/><target type='serial' port='0'/></console>
  </devices>
</domain>`;

describe('domain XML facts', () => {
  it('reads the neutral fields', () => {
    expect(domainFacts(XML)).toEqual({
      id: '7b036f5a-9a11-4030-b07f-03d2cc322f75',
      name: 'web',
      cpus: 2,
      memoryBytes: 262144 * 1024,
      guestOs: 'debian/12',
      firmware: 'uefi',
      disks: [{ name: 'vda', sizeBytes: null, location: '/vms/web/root.qcow2', format: 'qcow2' }],
      nics: [{ mac: '52:54:00:aa:bb:cc', network: 'default', model: 'virtio' }],
      serial: { kind: 'unix', path: '/vms/web/serial-0123abcd.sock' },
      domainType: 'qemu',
    });
    expect(() => domainFacts('<domain><uuid>x</uuid></domain>')).toThrow(/without a <name>/);
  });

  it('states from domstate and domstats', () => {
    expect(stateOf('running (booted)')).toBe('running');
    expect(stateOf('shut off (saved)')).toBe('suspended');
    expect(stateOf('shut off (destroyed)')).toBe('stopped');
    expect(stateOf('paused (user)')).toBe('paused');
    expect(stateOfCode(5, 5)).toBe('suspended');
    expect(stateOfCode(5, 2)).toBe('stopped');
    expect(stateOfCode(3, 1)).toBe('paused');
  });

  it('a clone gets its own name, no uuid, MACs or nvram, its own disks and serial paths', () => {
    const out = cloneXml(XML, 'web2', new Map([['/vms/web/root.qcow2', '/vms/web2/vda.qcow2']]), { from: '/vms/web/serial-0123abcd.sock', socket: '/vms/web2/serial-0123abcd.sock', log: '/vms/web2/serial.log' });
    const f = domainFacts(out);
    expect(f.name).toBe('web2');
    expect(f.id).toBe('');
    expect(f.nics[0]!.mac).toBeNull();
    expect(out).not.toContain('<nvram>');
    expect(f.disks[0]!.location).toBe('/vms/web2/vda.qcow2');
    expect(out).toContain("<source file='/iso/x.iso'"); // a CD-ROM is shared
    expect(out.match(/serial-0123abcd\.sock/g)).toHaveLength(2);
    expect(out).not.toContain('/vms/web/serial');
    expect(out).toContain("<log file='/vms/web2/serial.log'");
  });

  it('a migration renames the per-host serial socket only', () => {
    const out = retargetSerial(XML, '0123abcd', 'ffff0000');
    expect(out.match(/serial-ffff0000\.sock/g)).toHaveLength(2);
    expect(retargetSerial(XML, 'deadbeef', 'ffff0000')).toBe(XML);
  });

  it('reconfigure keeps the topology consistent with the count', () => {
    expect(domainFacts(withCpus(XML, 4)).cpus).toBe(4);
    expect(withCpus(XML, 4)).toContain("<topology sockets='2' dies='1' cores='2' threads='1'/>");
    expect(withCpus(XML, 3)).toContain("<topology sockets='1' dies='1' cores='3' threads='1'/>");
    expect(domainFacts(withMemory(XML, 524288)).memoryBytes).toBe(512 * 1024 * 1024);
  });
});

describe('endpoint URLs', () => {
  it('one URI or several; hosts named by host part when unique, else by URI', () => {
    expect(parseHosts('qemu+ssh://root@node1/system,qemu+ssh://node2/system').map((h) => h.name)).toEqual(['node1', 'node2']);
    const two = parseHosts('qemu+unix:///system?socket=/a/sock, qemu+unix:///system?socket=/b/sock');
    expect(two.map((h) => h.name)).toEqual(['qemu+unix:///system?socket=/a/sock', 'qemu+unix:///system?socket=/b/sock']);
    expect(two.every((h) => h.local)).toBe(true);
    expect(two[0]!.key).not.toBe(two[1]!.key);
    expect(parseHosts('qemu+ssh://node1/system')[0]!.local).toBe(false);
  });

  it('refuses what is not a QEMU URI, and URIs that would run a program', () => {
    expect(() => parseHosts('')).toThrow(/empty/);
    expect(() => parseHosts('xen:///system')).toThrow(/not a libvirt QEMU URI/);
    expect(() => parseHosts('qemu+ext:///system?command=/bin/sh')).toThrow(/not a libvirt QEMU URI/);
    expect(() => parseHosts('qemu+ssh://h/system?command=/bin/sh')).toThrow(/"command" is not accepted/);
    expect(() => parseHosts('qemu:///system,qemu:///system')).toThrow(/twice/);
  });
});
