/**
 * The read (adopt) direction: real-world domain XML (virt-install, libvirt's
 * test suite, libvirt 9.0's own dumpxml of a Polyvisor domain; sources in
 * test/golden/libvirt/read/README.md) read into a valid spec, with the lossy
 * list asserted in full. Each read spec is written back with domainXml and
 * checked with virt-xml-validate.
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPolyvisorError, run } from '../../shared/index.js';
import { parseSpecText, validateSpec, type VmSpec } from '../../spec/index.js';
import { aliasOf, nameOfAlias } from './domain-xml-disks.js';
import { domainXml } from './domain-xml.js';
import { readDomainXml } from './domain-xml-read.js';

const GOLDEN = path.resolve(import.meta.dirname, '..', '..', '..', 'test', 'golden', 'libvirt');
const fixture = (name: string): string => readFileSync(path.join(GOLDEN, 'read', name), 'utf8');
const scratch = mkdtempSync(path.join(tmpdir(), 'pv-domain-xml-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The spec is valid as it stands, and domainXml writes it back as XML libvirt's schema accepts, reading back the same. */
async function writesBack(spec: VmSpec, diskPaths: Record<string, string>): Promise<void> {
  expect(validateSpec({ ...spec, memory: `${spec.memory / 1024}Ki` })).toEqual(spec);
  const xml = domainXml(spec, { uuid: '11111111-2222-3333-4444-555555555555', diskPaths, passt: true });
  const file = path.join(scratch, `${spec.name}.xml`);
  writeFileSync(file, xml);
  const v = await run('virt-xml-validate', [file, 'domain'], { timeoutMs: 30_000 });
  expect(v.code, v.stderr).toBe(0);
  expect(readDomainXml(xml).spec).toEqual(spec);
}

const disk = (name: string, p: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name, path: p, format: 'qcow2', media: 'disk', bus: 'virtio', readOnly: false, cache: 'writeback', ...extra,
});

describe('readDomainXml on domains Polyvisor did not create', () => {
  it('virt-install: a modern Linux guest', async () => {
    const r = readDomainXml(fixture('virt-install-linux2020.xml'));
    expect(r.uuid).toBe('00000000-1111-2222-3333-444444444444');
    expect(r.spec).toMatchObject({
      name: 'linux2020', memory: 64 * 1024 ** 2, cpu: { count: 2, sockets: 1, cores: 2, threads: 1, model: 'host' },
      machine: { type: 'q35', accel: 'kvm' }, boot: { firmware: 'bios', order: ['disk'] },
      disks: [disk('vda', '/var/lib/libvirt/images/linux2020.qcow2')],
      networks: [{ name: 'net0', type: 'user', model: 'virtio', mac: '00:11:22:33:44:55', portForwards: [] }],
      serial: { enabled: true }, // its <console type="pty"/> is libvirt's serial port, agent: { enabled: true }, display: { vnc: true },
    });
    expect(r.lossy).toEqual([
      '<metadata> element <libosinfo:libosinfo> (namespace http://libosinfo.org/xmlns/libvirt/domain/1.0) is not kept',
      'interface 00:11:22:33:44:55: bridge testsuitebr0 becomes user-mode networking',
      'channel com.redhat.spice.0 is not kept',
      'the SPICE display becomes VNC',
      'video model virtio becomes VGA',
      '<sound> (ich9) is not kept',
      '<redirdev> (spicevmc) is not kept',
      '<redirdev> (spicevmc) is not kept',
      '<rng> (virtio) is not kept',
    ]);
    expect(r.diskPaths).toEqual({ vda: '/var/lib/libvirt/images/linux2020.qcow2' });
    await writesBack(r.spec, r.diskPaths);
  });

  it('virt-install: a Windows 10 guest', async () => {
    const r = readDomainXml(fixture('virt-install-kvm-win10.xml'));
    expect(r.spec).toMatchObject({
      name: 'win10', cpu: { count: 2, model: 'host' }, machine: { type: 'q35', accel: 'kvm' },
      disks: [disk('sda', '/dev/default-pool/testvol1.img', { bus: 'sata' }), disk('sdb', '/dev/default-pool/testvol2.img', { media: 'cdrom', bus: 'sata', readOnly: true })],
      networks: [{ name: 'net0', model: 'e1000e', mac: '00:11:22:33:44:55' }],
      serial: { enabled: true }, agent: { enabled: false }, display: { vnc: true },
    });
    expect(r.lossy).toEqual([
      '<metadata> element <libosinfo:libosinfo> (namespace http://libosinfo.org/xmlns/libvirt/domain/1.0) is not kept',
      'interface 00:11:22:33:44:55: bridge testsuitebr0 becomes user-mode networking',
      'channel com.redhat.spice.0 is not kept',
      'the SPICE display becomes VNC',
      'video model qxl becomes VGA',
      '<sound> (ich9) is not kept',
      '<redirdev> (spicevmc) is not kept',
      '<redirdev> (spicevmc) is not kept',
      '<features><hyperv> is not kept',
      'the clock\'s localtime offset is not kept (the guest clock runs in UTC)',
    ]);
    await writesBack(r.spec, r.diskPaths);
  });

  it('libvirt test suite: q35-virt-manager-basic', async () => {
    const r = readDomainXml(fixture('libvirt-q35-virt-manager-basic.xml'));
    expect(r.spec).toMatchObject({
      name: 'virt-manager-basic', memory: 4 * 1024 ** 3, cpu: { count: 2, model: 'qemu64' }, machine: { type: 'q35', accel: 'kvm' },
      disks: [disk('vda', '/var/lib/libvirt/images/basic.qcow2')],
      networks: [{ name: 'net0', type: 'user', model: 'virtio', mac: '52:54:00:9a:e6:c6' }],
      serial: { enabled: true }, agent: { enabled: true }, display: { vnc: true },
    });
    expect(r.lossy).toEqual([
      'channel com.redhat.spice.0 is not kept',
      'the SPICE display becomes VNC',
      'video model qxl becomes VGA',
      '<sound> (ich9) is not kept',
      '<redirdev> (spicevmc) is not kept',
      '<redirdev> (spicevmc) is not kept',
    ]);
    await writesBack(r.spec, r.diskPaths);
  });

  it('libvirt test suite: PCI passthrough is listed, the IDE block device kept', async () => {
    const r = readDomainXml(fixture('libvirt-hostdev-pci-address.xml'));
    expect(r.spec).toMatchObject({
      name: 'QEMUGuest2', memory: 219100 * 1024, machine: { type: 'pc', accel: 'tcg' },
      disks: [disk('hda', '/dev/HostVG/QEMUGuest2', { format: 'raw', bus: 'sata' })], networks: [],
    });
    expect(r.lossy).toEqual(['arch i686 becomes x86_64 (32-bit guests run there too)', '<hostdev> PCI passthrough 0000:06:12.5 is not kept']);
    await writesBack(r.spec, r.diskPaths);
  });

  it('libvirt test suite: a <boot dev> list with floppies', async () => {
    const r = readDomainXml(fixture('libvirt-boot-complex.xml'));
    expect(r.spec.boot.order).toEqual(['cdrom', 'network', 'disk']);
    expect(r.spec.disks.map((d) => `${d.name}:${d.bus}:${d.media}`)).toEqual(['vdb:virtio:disk', 'hdb:sata:disk', 'hda:sata:disk', 'vda:virtio:disk', 'hdc:sata:cdrom']);
    expect(r.spec.networks.map((n) => n.mac)).toEqual(['00:11:22:33:44:11', '00:11:22:33:44:22']);
    expect(r.lossy).toEqual([
      'arch i686 becomes x86_64 (32-bit guests run there too)',
      'boot device fd is not kept',
      'disk fdb (a floppy) is not kept: the spec has disks and CD-ROMs',
      'disk fda (a floppy) is not kept: the spec has disks and CD-ROMs',
    ]);
    await writesBack(r.spec, r.diskPaths);
  });

  it('virsh define: what the spec has no field for is listed, one sentence each', async () => {
    const r = readDomainXml(fixture('virsh-define-edge-cases.xml'));
    expect(r.spec).toMatchObject({
      name: 'Web-Server--1', description: 'Serves www & api', memory: 3 * 1024 ** 3,
      cpu: { count: 4, sockets: 2, cores: 2, threads: 1, model: 'max' }, machine: { type: 'q35', accel: 'kvm' },
      boot: { firmware: 'uefi', order: ['network'] },
      disks: [disk('vda', '/var/lib/libvirt/images/web.qcow2', { cache: 'none', bootIndex: 0 }), disk('sda', '/srv/shared/quorum.img', { format: 'raw', bus: 'scsi' })],
      networks: [
        { name: 'net0', model: 'rtl8139', mac: '52:54:00:6b:3c:58', portForwards: [] },
        { name: 'net1', model: 'virtio', portForwards: [8080, 8081, 8082].map((p) => ({ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: p, guestPort: p - 8000 })) },
      ],
      serial: { enabled: true }, agent: { enabled: false }, display: { vnc: true },
    });
    expect(r.lossy).toEqual([
      'the name "Web Server #1" becomes Web-Server--1',
      'the balloon target (currentMemory 2097152 KiB) is not kept: the VM gets all 3145728 KiB',
      '4 hot-pluggable vCPUs are not kept (the VM gets 4)',
      'vCPU pinning (cpuset 0-3) is not kept',
      'CPU model Haswell-noTSX becomes max',
      'CPU feature vmx (policy require) is not kept',
      '<cpu><numa> is not kept',
      'CPU dies/clusters are folded into sockets (2)',
      'UEFI Secure Boot is not kept (plain OVMF is used)',
      'disk vda: <iotune> is not kept',
      'disk vdb is not kept: its source is of type network (the spec keeps image files and block devices)',
      'disk vdc is not kept: its source is of type volume (the spec keeps image files and block devices)',
      'disk vdd is not kept: image format vmdk (the spec has qcow2 and raw; convert it with qemu-img)',
      'disk vde is not kept: its path "/srv/My Images/scratch.img" has characters the spec does not allow',
      'disk sda: <shareable/> is not kept',
      'disk sda: <serial> is not kept',
      'disk sdb is not kept: it has no medium',
      'interface 52:54:00:6b:3c:58: network default becomes user-mode networking',
      'interface 52:54:00:6b:3c:58: <bandwidth> is not kept',
      'interface 52:54:00:6b:3c:59: a port forward exclusion or unreadable range is not kept',
      'interface 52:54:00:6b:3c:59: port forwards on ::1 are not kept (the spec forwards IPv4 addresses)',
      '1 serial port(s) after the first are not kept',
      'a virtio console is not kept (the spec has the serial console)',
      'the display listened on 0.0.0.0; Polyvisor\'s VNC listens on a unix socket or 127.0.0.1 only',
      'the display password is not kept (Polyvisor reaches VNC through its authenticated console proxy)',
      'video model cirrus becomes VGA',
      '<watchdog> (i6300esb) is not kept',
      '<tpm> (tpm-crb) is not kept',
      '<qemu:commandline> is not kept',
      'on_poweroff preserve is not kept',
      'the title "Front end" is not kept',
    ]);
    expect(r.lossy.join('\n')).not.toContain('s3cret');
    await writesBack(r.spec, r.diskPaths);
  });
});

describe('readDomainXml on what libvirt 9.0 dumps of a Polyvisor domain', () => {
  for (const name of ['cloud-init', 'explicit-boot-index']) {
    it(`${name}: the golden spec back, nothing lossy (libvirt's MACs aside)`, () => {
      const want = parseSpecText(readFileSync(path.join(GOLDEN, `${name}.spec.yaml`), 'utf8'));
      const r = readDomainXml(fixture(`libvirt90-dumpxml-${name}.xml`));
      expect(r.lossy).toEqual([]);
      expect(r.spec.networks.every((n) => /^52:54:00(:[0-9a-f]{2}){3}$/.test(n.mac ?? ''))).toBe(true);
      expect({ ...r.spec, networks: r.spec.networks.map(({ mac: _mac, ...n }) => n) }).toEqual(want);
    });
  }

  it('live XML of a running UEFI guest: the spec it was defined from, nothing lossy', () => {
    const want = validateSpec({
      name: 'lx-uefi', memory: '256Mi', machine: { accel: 'tcg' }, boot: { firmware: 'uefi' },
      disks: [{ name: 'root', path: '/tmp/lx-run/uefi-overlay.qcow2' }],
    });
    const r = readDomainXml(fixture('libvirt90-dumpxml-live-uefi.xml'));
    expect(r.lossy).toEqual([]);
    expect(r.uuid).toBe('aaaaaaaa-0000-4000-8000-000000000002');
    expect(r.spec).toEqual(want);
  });

  it('ignores hints once the XML no longer says what they were written against, and says so', () => {
    // Written for accel auto on a TCG host (hint: xml "tcg", spec "auto"); someone made it a kvm domain since.
    const spec = validateSpec({ name: 'edited', boot: { kernel: '/k' } });
    const xml = domainXml(spec, { uuid: '11111111-2222-3333-4444-555555555555', diskPaths: {}, domainType: 'qemu' });
    expect(readDomainXml(xml).spec.machine.accel).toBe('auto');
    const r = readDomainXml(xml.replace("<domain type='qemu'>", "<domain type='kvm'>"));
    expect(r.spec.machine.accel).toBe('kvm');
    expect(r.lossy).toEqual(['1 Polyvisor hint(s) no longer match the XML (edited outside Polyvisor) and were not used']);
  });
});

describe('what cannot become a spec at all', () => {
  const minimal = (type: string, arch = 'x86_64'): string =>
    `<domain type='${type}'><name>x</name><memory>65536</memory><os><type arch='${arch}'>hvm</type></os><devices/></domain>`;

  it('is SPEC_INVALID for non-QEMU domain types and other architectures', () => {
    for (const xml of [minimal('xen'), minimal('lxc'), minimal('kvm', 'aarch64')]) {
      try {
        readDomainXml(xml);
        expect.unreachable();
      } catch (err) {
        expect(isPolyvisorError(err, 'SPEC_INVALID')).toBe(true);
      }
    }
    expect(readDomainXml(minimal('kvm').replace('<devices/>', "<devices><disk><source file='/a.raw'/><target dev='vda'/></disk></devices>")).spec.name).toBe('x');
  });

  it('is SPEC_PARSE_FAILED for text that is not domain XML', () => {
    for (const text of ['not xml at all <', '<network><name>default</name></network>', '']) {
      expect(() => readDomainXml(text)).toThrow(expect.objectContaining({ code: 'SPEC_PARSE_FAILED' }));
    }
  });
});

describe('boot order', () => {
  it('lists a network-first per-device order the spec cannot keep (it numbers NICs after disks)', () => {
    const xml = `<domain type='qemu'><name>pxe</name><memory>65536</memory><os><type>hvm</type></os><devices>
      <disk type='file' device='disk'><source file='/a.qcow2'/><driver type='qcow2'/><target dev='vda' bus='virtio'/><boot order='2'/></disk>
      <interface type='user'><model type='virtio'/><boot order='1'/></interface></devices></domain>`;
    const r = readDomainXml(xml);
    expect(r.spec.disks[0]?.bootIndex).toBe(1);
    expect(r.spec.boot.order).toEqual(['network']);
    expect(r.lossy).toEqual(['the boot order NIC net0, vda becomes vda, NIC net0']);
  });
});

describe('user aliases', () => {
  it('carry any spec name through libvirt\'s [A-Za-z0-9_-] rule, and foreign aliases as they are', () => {
    for (const n of ['root', 'mgmt.1', 'my_disk', 'a._b', '0.0']) {
      expect(aliasOf(n)).toMatch(/^ua-[A-Za-z0-9_-]+$/);
      expect(nameOfAlias(aliasOf(n), true)).toBe(n);
    }
    expect(aliasOf('mgmt.1')).toBe('ua-mgmt_01');
    expect(nameOfAlias('ua-my_disk', true)).toBe('my_disk');
    expect(nameOfAlias('ua-a__b', false)).toBe('a__b');
    expect(nameOfAlias('virtio-disk0', true)).toBeUndefined();
  });
});
