/** VMX writer and reader, and VMDK descriptors: golden files both ways (test/golden/interchange/vmx/), round trips, what is refused. */
import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { validateSpec } from '../spec/index.js';
import { INTERCHANGE_CASES } from '../../test/golden/interchange/cases.js';
import { absolutePaths, expectGolden, project, readGolden, type Projection } from '../../test/golden/interchange/golden.js';
import { readVmdkDescriptor } from './vmdk-descriptor.js';
import { readVmx } from './vmx-read.js';
import { writeVmx } from './vmx-write.js';

/** The documented lossy mappings of a VMX export (docs/interchange.md). */
function lossy(p: Projection, exported: Set<string>, names: string[]): Projection {
  return {
    ...p,
    memoryMiB: Math.ceil(p.memoryMiB / 4) * 4,
    disks: p.disks.filter((d, i) => d.media === 'disk' || exported.has(names[i]!))
      .map((d) => ({ media: d.media, bus: d.media === 'cdrom' ? (d.bus === 'scsi' || d.bus === 'ide' ? d.bus : 'sata') : d.bus === 'virtio' ? 'scsi' : d.bus })),
    nics: p.nics.map((n) => ({ model: n.model === 'virtio' ? 'vmxnet3' : n.model === 'rtl8139' ? 'e1000' : n.model, ...(n.mac !== undefined && /^00:50:56:[0-3]/.test(n.mac) ? { mac: n.mac } : {}) })),
    osType: p.osType ?? 'other',
    video: p.video === 'none' ? undefined : 'vmware',
  };
}

describe('VMX golden files', () => {
  for (const c of INTERCHANGE_CASES) {
    it(`${c.name}: spec → VMX → plan`, () => {
      const spec = validateSpec(c.spec);
      const out = writeVmx({ spec, disks: c.disks });
      expect(out.files.map((f) => f.name)).toEqual([`${spec.name}.vmx`]);
      expectGolden('vmx', `${c.name}.vmx`, out.files[0]!.content);
      expectGolden('vmx', `${c.name}.export-warnings.json`, `${JSON.stringify(out.warnings, null, 2)}\n`);
      const plan = readVmx(readGolden('vmx', `${c.name}.vmx`), {});
      expectGolden('vmx', `${c.name}.plan.json`, `${JSON.stringify(plan, null, 2)}\n`);
      const back = validateSpec(absolutePaths(plan.spec));
      expect(project(back)).toEqual(lossy(project(spec), new Set(c.disks.map((d) => d.name)), spec.disks.map((d) => d.name)));
    });
  }
});

function refused(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
    expect.unreachable('the input was read');
  } catch (err) {
    expect(isPolyvisorError(err, 'INTERCHANGE_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(pattern);
  }
}

describe('VMX hostile input', () => {
  const base = 'memsize = "512"\nscsi0.present = "TRUE"\nscsi0:0.present = "TRUE"\n';
  it('refuses a disk outside the VMX directory (/etc/shadow, ../, C:\\) and writes nothing', () => {
    refused(() => readVmx(`${base}scsi0:0.fileName = "/etc/shadow"\n`, {}), /\/etc\/shadow.*outside/);
    refused(() => readVmx(`${base}scsi0:0.fileName = "../../etc/shadow"\n`, {}), /outside/);
    refused(() => readVmx(`${base}scsi0:0.fileName = "sub/../../x.vmdk"\n`, {}), /outside/);
    refused(() => readVmx(`${base}scsi0:0.fileName = "C:\\\\VMs\\\\x.vmdk"\n`, {}), /outside/);
    expect(readVmx(`${base}scsi0:0.fileName = "x.vmdk"\n`, {}).disks).toEqual([{ name: 'disk0', file: 'x.vmdk', format: 'vmdk' }]);
  });

  it('leaves out an ISO outside the directory with a warning instead', () => {
    const plan = readVmx('memsize = "512"\nide1:0.present = "TRUE"\nide1:0.deviceType = "cdrom-image"\nide1:0.fileName = "/usr/lib/vmware/isoimages/linux.iso"\n', {});
    expect(plan.spec.disks).toEqual([]);
    expect(plan.warnings).toContainEqual({ source: 'ide1:0.fileName', message: 'the ISO /usr/lib/vmware/isoimages/linux.iso is not beside the VMX: the CD-ROM is not kept' });
  });

  it('refuses garbled text, binary files and absurd counts', () => {
    refused(() => readVmx('memsize = "512"\nthis is not a vmx line\n', {}), /line 2/);
    refused(() => readVmx('\u0000\u0001\u0002', {}), /NUL/);
    refused(() => readVmx('', {}), /empty/);
    refused(() => readVmx('displayName = "x"\n', {}), /no memsize/);
    refused(() => readVmx('memsize = "99999999999999"\n', {}), /memsize/);
    refused(() => readVmx('memsize = "512"\nnumvcpus = "100000"\n', {}), /numvcpus/);
    refused(() => readVmx(`memsize = "512"\n${Array.from({ length: 9 }, (_, i) => `ethernet${i}.present = "TRUE"`).join('\n')}\n`, {}), /at most 8/);
  });
});

describe('VMDK descriptors', () => {
  const split = `# Disk DescriptorFile
version=1
encoding="UTF-8"
CID=fffffffe
parentCID=ffffffff
createType="twoGbMaxExtentSparse"

# Extent description
RW 4192256 SPARSE "web-s001.vmdk"
RW 4192256 SPARSE "web-s002.vmdk"
RW 8192 SPARSE "web-s003.vmdk"

# The Disk Data Base
#DDB

ddb.adapterType = "lsilogic"
ddb.geometry.cylinders = "522"
ddb.virtualHWVersion = "14"
`;
  it('reads split sparse extents, their sum as the capacity, and the disk database', () => {
    const d = readVmdkDescriptor(split);
    expect(d.createType).toBe('twoGbMaxExtentSparse');
    expect(d.extents.map((e) => e.file)).toEqual(['web-s001.vmdk', 'web-s002.vmdk', 'web-s003.vmdk']);
    expect(d.capacity).toBe((4192256 * 2 + 8192) * 512);
    expect(d.hwVersion).toBe(14);
    expect(d.adapterType).toBe('lsilogic');
  });

  it('reads monolithic flat and the descriptor embedded in a sparse file (up to its NUL)', () => {
    const flat = readVmdkDescriptor('createType="monolithicFlat"\nRW 2097152 FLAT "disk-flat.vmdk" 0\nddb.adapterType = "ide"\n');
    expect(flat.extents).toEqual([{ access: 'RW', sectors: 2097152, type: 'FLAT', file: 'disk-flat.vmdk', offset: 0 }]);
    const embedded = readVmdkDescriptor('# Disk DescriptorFile\nversion=1\nCID=1234abcd\nparentCID=ffffffff\ncreateType="monolithicSparse"\nRW 20971520 SPARSE "disk.vmdk"\n\0\0\0binary grain tables');
    expect(embedded.capacity).toBe(10 * 1024 ** 3);
    const delta = readVmdkDescriptor('CID=1\nparentCID=abcdef12\nparentFileNameHint="base.vmdk"\ncreateType="monolithicSparse"\nRW 2048 SPARSE "delta.vmdk"\n');
    expect(delta.parent).toBe('base.vmdk');
  });

  it('refuses extents and parents outside the directory, overflowing sizes and unknown types', () => {
    refused(() => readVmdkDescriptor('createType="monolithicFlat"\nRW 2048 FLAT "/etc/shadow" 0\n'), /outside/);
    refused(() => readVmdkDescriptor('createType="monolithicFlat"\nRW 2048 FLAT "../x-flat.vmdk" 0\n'), /outside/);
    refused(() => readVmdkDescriptor('parentCID=1\nparentFileNameHint="/vmfs/volumes/ds/base.vmdk"\ncreateType="vmfsSparse"\nRW 2048 VMFSSPARSE "d.vmdk"\n'), /outside/);
    refused(() => readVmdkDescriptor('createType="monolithicSparse"\nRW 99999999999999999999 SPARSE "x.vmdk"\n'), /2\^53/);
    refused(() => readVmdkDescriptor('createType="bogus"\nRW 1 SPARSE "x.vmdk"\n'), /createType/);
    refused(() => readVmdkDescriptor('createType="monolithicSparse"\n'), /no extent/);
    refused(() => readVmdkDescriptor('hello'), /not a VMDK descriptor/);
  });
});
