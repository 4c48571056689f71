/** OVF writer and reader: golden files both ways (test/golden/interchange/ovf/), round trips, what is refused. */
import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { validateSpec } from '../spec/index.js';
import { INTERCHANGE_CASES } from '../../test/golden/interchange/cases.js';
import { absolutePaths, expectGolden, project, readGolden, type Projection } from '../../test/golden/interchange/golden.js';
import { readOvf } from './ovf-read.js';
import { writeOvf } from './ovf-write.js';

/** The documented lossy mappings of an OVF export (docs/interchange.md). */
function lossy(p: Projection, exported: Set<string>, names: string[]): Projection {
  return {
    ...p,
    disks: p.disks.filter((d, i) => d.media === 'disk' || exported.has(names[i]!))
      .map((d) => ({ media: d.media, bus: d.media === 'cdrom' ? (d.bus === 'scsi' || d.bus === 'sata' ? d.bus : 'ide') : d.bus === 'virtio' ? 'scsi' : d.bus })),
    nics: p.nics.map((n) => ({ ...n, model: n.model === 'virtio' ? 'vmxnet3' : n.model === 'rtl8139' ? 'e1000' : n.model })),
    osType: p.osType ?? 'other',
    video: p.video === 'none' ? undefined : p.video,
  };
}

describe('OVF golden files', () => {
  for (const c of INTERCHANGE_CASES) {
    it(`${c.name}: spec → OVF → plan`, () => {
      const spec = validateSpec(c.spec);
      const out = writeOvf({ spec, disks: c.disks });
      expect(out.files.map((f) => f.name)).toEqual([`${spec.name}.ovf`]);
      expectGolden('ovf', `${c.name}.ovf`, out.files[0]!.content);
      expectGolden('ovf', `${c.name}.export-warnings.json`, `${JSON.stringify(out.warnings, null, 2)}\n`);
      const plan = readOvf(readGolden('ovf', `${c.name}.ovf`), {});
      expectGolden('ovf', `${c.name}.plan.json`, `${JSON.stringify(plan, null, 2)}\n`);
      const back = validateSpec(absolutePaths(plan.spec));
      const exported = new Set(c.disks.map((d) => d.name));
      expect(project(back)).toEqual(lossy(project(spec), exported, spec.disks.map((d) => d.name)));
    });
  }

  it('keeps sockets of one core each (vmw:CoresPerSocket 1 written and read)', () => {
    const spec = validateSpec({ name: 'two-sockets', memory: '128M', cpu: { count: 4, sockets: 4, cores: 1 }, disks: [{ name: 'root', size: '1G' }] });
    const ovf = writeOvf({ spec, disks: [{ name: 'root', file: 'root.vmdk', format: 'vmdk', capacity: 1024 ** 3 }] }).files[0]!.content;
    expect(ovf).toMatch(/<vmw:CoresPerSocket ovf:required="false">1<\/vmw:CoresPerSocket>/);
    expect(validateSpec(absolutePaths(readOvf(ovf, {}).spec)).cpu).toMatchObject({ count: 4, sockets: 4, cores: 1 });
  });

  it('reads --virtio: virtio disks, NICs and video, no emulated SCSI controller', () => {
    const c = INTERCHANGE_CASES.find((x) => x.name === 'secure-boot-windows')!;
    const plan = readOvf(writeOvf({ spec: validateSpec(c.spec), disks: c.disks }).files[0]!.content, { virtio: true, name: 'renamed' });
    expect(plan.spec.name).toBe('renamed');
    expect(plan.spec.scsiController).toBeUndefined();
    expect(plan.spec.disks?.map((d) => d.bus)).toEqual(['virtio']);
    expect(plan.spec.networks?.map((n) => n.model)).toEqual(['virtio']);
    expect(plan.spec.display?.video).toBe('virtio');
    expect(plan.warnings.some((w) => /becomes virtio/.test(w.message))).toBe(true);
  });
});

const envelope = (body: string, hw = ''): string => `<?xml version="1.0"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
${body}
<VirtualSystem ovf:id="x"><Info>x</Info><VirtualHardwareSection><Info>hw</Info>
<Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:VirtualQuantity>512</rasd:VirtualQuantity></Item>
${hw}</VirtualHardwareSection></VirtualSystem></Envelope>`;

function refused(text: string, pattern: RegExp): void {
  try {
    readOvf(text, {});
    expect.unreachable('the OVF was read');
  } catch (err) {
    expect(isPolyvisorError(err, 'INTERCHANGE_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(pattern);
  }
}

describe('OVF hostile input', () => {
  it('reads the minimal envelope the hostile cases start from', () => {
    expect(readOvf(envelope(''), {}).spec.memory).toBe('512Mi');
  });

  it('refuses entity expansion (billion laughs) and external entities, fetching nothing', () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE Envelope [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><Envelope><VirtualSystem><Name>&lol3;</Name></VirtualSystem></Envelope>`;
    refused(laughs, /entities/);
    refused(`<?xml version="1.0"?><!DOCTYPE Envelope [<!ENTITY x SYSTEM "file:///etc/shadow">]><Envelope>&x;</Envelope>`, /entities/);
    refused(`<?xml version="1.0"?><!DOCTYPE Envelope SYSTEM "http://127.0.0.1:9/evil.dtd"><Envelope/>`, /external DTD/);
    refused(envelope('').replace('<Info>x</Info>', '<Info>&undefinedEntity;</Info>'), /not expanded/);
  });

  it('refuses truncated and garbled XML, and XML that is no OVF', () => {
    const full = envelope('');
    refused(full.slice(0, full.length / 2), /well-formed|no VirtualSystem|VirtualHardwareSection/);
    refused('<Envelope><VirtualSystem></Envelope>', /well-formed/);
    refused('\u0000\u0001binary', /well-formed|root/);
    refused('<domain type="kvm"/>', /not an OVF descriptor/);
  });

  it('refuses sizes that overflow 2^63 or pass 2^53 bytes, and absurd counts', () => {
    const disk = (cap: string, units: string): string => envelope(`<References><File ovf:id="f" ovf:href="d.vmdk"/></References><DiskSection><Info>d</Info><Disk ovf:diskId="d" ovf:fileRef="f" ovf:capacity="${cap}" ovf:capacityAllocationUnits="${units}"/></DiskSection>`);
    refused(disk('9223372036854775807', 'byte * 2^30'), /overflows 2\^63/);
    refused(disk('99999999999999999999999999', 'byte'), /overflows 2\^63/);
    refused(disk('16777216', 'byte * 2^40'), /overflows 2\^63|2\^53/);
    refused(disk('1', 'byte * 2^999'), /overflows 2\^63/);
    refused(disk('-1', 'byte'), /not a whole number/);
    refused(disk('10', 'furlongs'), /not a size unit/);
    refused(envelope('', '<Item><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1000000</rasd:VirtualQuantity></Item>'), /not a count from 1 to 256/);
    refused(envelope('', '<Item><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity><rasd:AllocationUnits>byte * 2^70</rasd:AllocationUnits></Item>').replace(/<Item><rasd:InstanceID>1<\/rasd:InstanceID>.*?<\/Item>/s, ''), /overflows 2\^63/);
    refused(envelope('', '<Item><rasd:ResourceType>14</rasd:ResourceType></Item>'.repeat(1001)), /more than 1000/);
    refused(envelope('', '<Item><rasd:InstanceID>9</rasd:InstanceID><rasd:ResourceType>10</rasd:ResourceType></Item>'.repeat(9)), /at most 8/);
  });

  it('refuses file references that are URLs or leave the package', () => {
    refused(envelope('<References><File ovf:id="f" ovf:href="http://127.0.0.1/disk.vmdk"/></References>'), /is a URL/);
    refused(envelope('<References><File ovf:id="f" ovf:href="../../etc/shadow"/></References>'), /outside/);
    refused(envelope('<References><File ovf:id="f" ovf:href="/etc/shadow"/></References>'), /outside/);
  });

  it('refuses a vApp of several VMs and a disk attached twice', () => {
    refused('<Envelope><VirtualSystemCollection ovf:id="app"><VirtualSystem ovf:id="a"/><VirtualSystem ovf:id="b"/></VirtualSystemCollection></Envelope>', /vApp of 2 virtual systems/);
    const twice = envelope('<References><File ovf:id="f" ovf:href="d.vmdk"/></References><DiskSection><Info>d</Info><Disk ovf:diskId="d" ovf:fileRef="f" ovf:capacity="1" ovf:capacityAllocationUnits="byte * 2^30"/></DiskSection>',
      '<Item><rasd:InstanceID>5</rasd:InstanceID><rasd:ResourceType>17</rasd:ResourceType><rasd:HostResource>ovf:/disk/d</rasd:HostResource></Item>'.repeat(2));
    refused(twice, /attached twice/);
  });
});
