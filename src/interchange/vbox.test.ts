/** VirtualBox writer and reader: golden files both ways (test/golden/interchange/vbox/), round trips, what is refused. */
import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { validateSpec } from '../spec/index.js';
import { INTERCHANGE_CASES } from '../../test/golden/interchange/cases.js';
import { absolutePaths, expectGolden, project, readGolden, type Projection } from '../../test/golden/interchange/golden.js';
import type { ExportDisk } from './types.js';
import { readVbox } from './vbox-read.js';
import { writeVbox } from './vbox-write.js';

const NIC: Record<string, string> = { e1000: 'e1000', e1000e: 'e1000', vmxnet3: 'virtio', virtio: 'virtio', rtl8139: 'e1000' };
const VIDEO: Record<string, string> = { std: 'std', vmware: 'vmware', virtio: 'std', qxl: 'std', cirrus: 'std', none: 'none' };

/** The documented lossy mappings of a VirtualBox export (docs/interchange.md). */
function lossy(p: Projection, exported: Set<string>, names: string[]): Projection {
  return {
    ...p,
    secureBoot: false,
    disks: p.disks.filter((d, i) => d.media === 'disk' || exported.has(names[i]!))
      .map((d) => ({ media: d.media, bus: d.bus === 'ide' || d.bus === 'scsi' ? d.bus : 'sata' })),
    nics: p.nics.map((n) => ({ model: NIC[n.model]!, ...(n.mac === undefined ? {} : { mac: n.mac }) })),
    osType: p.osType ?? 'other',
    video: VIDEO[p.video ?? 'std'],
  };
}

/** VirtualBox disks are VDI. */
const vdi = (disks: ExportDisk[]): ExportDisk[] => disks.map((d) => (d.format === 'vmdk' ? { ...d, file: d.file.replace(/\.vmdk$/, '.vdi'), format: 'vdi' } : d));

describe('VirtualBox golden files', () => {
  for (const c of INTERCHANGE_CASES) {
    it(`${c.name}: spec → .vbox → plan`, () => {
      const spec = validateSpec(c.spec);
      const out = writeVbox({ spec, disks: vdi(c.disks) });
      expect(out).toEqual(writeVbox({ spec, disks: vdi(c.disks) })); // UUIDs and MACs derive from names: same spec, same file
      expectGolden('vbox', `${c.name}.vbox`, out.files[0]!.content);
      expectGolden('vbox', `${c.name}.export-warnings.json`, `${JSON.stringify(out.warnings, null, 2)}\n`);
      const plan = readVbox(readGolden('vbox', `${c.name}.vbox`), {});
      expectGolden('vbox', `${c.name}.plan.json`, `${JSON.stringify(plan, null, 2)}\n`);
      const back = validateSpec(absolutePaths(plan.spec));
      const want = lossy(project(spec), new Set(c.disks.map((d) => d.name)), spec.disks.map((d) => d.name));
      const got = project(back);
      // NICs without a MAC get one from VirtualBox's range.
      got.nics.forEach((n, i) => {
        if (want.nics[i]!.mac === undefined) {
          expect(n.mac).toMatch(/^08:00:27:/);
          delete n.mac;
        }
      });
      expect(got).toEqual(want);
    });
  }
});

function refused(text: string, pattern: RegExp): void {
  try {
    readVbox(text, {});
    expect.unreachable('the file was read');
  } catch (err) {
    expect(isPolyvisorError(err, 'INTERCHANGE_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(pattern);
  }
}

describe('VirtualBox hostile input', () => {
  const machine = (hw: string, extra = ''): string => `<?xml version="1.0"?><VirtualBox xmlns="http://www.virtualbox.org/" version="1.16-linux"><Machine uuid="{1}" name="m" OSType="Debian_64">${extra}<Hardware>${hw}</Hardware></Machine></VirtualBox>`;
  it('refuses entities, garbled XML and other documents', () => {
    refused(`<?xml version="1.0"?><!DOCTYPE VirtualBox [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><VirtualBox>&b;</VirtualBox>`, /entities/);
    refused(`<!DOCTYPE VirtualBox [<!ENTITY x SYSTEM "file:///etc/passwd">]><VirtualBox>&x;</VirtualBox>`, /entities/);
    refused(machine('<Memory RAMSize="512"/>').slice(0, 60), /well-formed|no <Machine>/);
    refused('<Envelope/>', /not a VirtualBox machine file/);
    refused('<VirtualBox><Machine name="m"/></VirtualBox>', /no <Hardware>/);
  });

  it('refuses absurd sizes and counts', () => {
    refused(machine('<Memory RAMSize="99999999999999999"/>'), /RAMSize/);
    refused(machine('<CPU count="65536"/><Memory RAMSize="512"/>'), /CPU\/@count/);
    refused(machine(`<Memory RAMSize="512"/><Network>${'<Adapter slot="0" enabled="true" type="82540EM"><NAT/></Adapter>'.repeat(9)}</Network>`), /at most 8/);
  });

  it('never reads media from their recorded directories: a disk at /etc/shadow is looked up as "shadow" beside the .vbox', () => {
    const plan = readVbox(machine('<Memory RAMSize="512"/>',
      '<MediaRegistry><HardDisks><HardDisk uuid="{d}" location="/etc/shadow" format="VDI"/></HardDisks></MediaRegistry>') .replace('</Hardware>', '</Hardware><StorageControllers><StorageController name="SATA" type="AHCI"><AttachedDevice type="HardDisk" port="0" device="0"><Image uuid="{d}"/></AttachedDevice></StorageController></StorageControllers>'), {});
    expect(plan.disks).toEqual([{ name: 'disk0', file: 'shadow', format: 'vdi' }]);
    expect(plan.warnings).toContainEqual(expect.objectContaining({ message: '/etc/shadow is looked up as shadow beside the .vbox file' }));
    refused(machine('<Memory RAMSize="512"/>', '<MediaRegistry><HardDisks><HardDisk uuid="{d}" location="../.." format="VDI"/></HardDisks></MediaRegistry>')
      .replace('</Hardware>', '</Hardware><StorageControllers><StorageController name="SATA" type="AHCI"><AttachedDevice type="HardDisk" port="0" device="0"><Image uuid="{d}"/></AttachedDevice></StorageController></StorageControllers>'), /names no file/);
  });
});
