/**
 * The import's mapping view and the warnings list, rendered with React's
 * server renderer (no browser needed: both take props only). Inputs: a
 * fixture's mapped plan as the reader gives it (test/fixtures/interchange,
 * memory as text) and a spec as the daemon's dry run answers it once
 * validated (memory in bytes, CPU topology filled in).
 */
import { readFileSync } from 'node:fs';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { mappingOf, sizeText } from './mapping.js';
import { MappingView } from './MappingView.js';
import type { FileImportView } from './types.js';
import { WarningsList } from './WarningsList.js';

const fixture = JSON.parse(readFileSync(new URL('../../../../test/fixtures/interchange/ovf/virtualbox-5-ide-pcnet.ovf.plan.json', import.meta.url), 'utf8')) as {
  spec: Record<string, unknown>; warnings: Array<{ source: string; message: string }>;
};

const validated: FileImportView = {
  format: 'ovf',
  dryRun: true,
  spec: {
    name: 'win2022', cpu: { count: 4, sockets: 2, cores: 2, threads: 1, model: 'max' }, memory: 8 * 1024 ** 3,
    machine: { type: 'q35' }, boot: { firmware: 'uefi', secureBoot: true }, scsiController: 'pvscsi', display: { video: 'vmware' },
    os: { type: 'windows', variant: 'windows2019srvNext_64Guest' },
    disks: [
      { name: 'disk0', media: 'disk', bus: 'scsi', format: 'qcow2', size: 1024 ** 3 },
      { name: 'disk1', media: 'disk', bus: 'sata', format: 'qcow2', size: 2 * 1024 ** 3 },
      { name: 'cdrom0', media: 'cdrom', bus: 'sata', format: 'raw', path: '/srv/iso/tools.iso' },
    ],
    networks: [{ name: 'net0', model: 'e1000e', mac: '00:50:56:aa:bb:cc' }, { name: 'net1', model: 'vmxnet3' }],
  },
  warnings: [],
  disks: [
    { name: 'disk0', file: '/srv/in/win2022-disk1.vmdk', format: 'vmdk', found: true },
    { name: 'disk1', file: 'win2022-disk2.vmdk', format: 'vmdk', found: false },
  ],
};

describe('mappingOf', () => {
  it('reads a fixture\'s plan as the reader maps it: IDE disk, e1000 NIC, BIOS, memory as written', () => {
    const m = mappingOf({ spec: fixture.spec, disks: [{ name: 'disk0', file: 'xp-lab-disk1.vmdk', format: 'vmdk', found: false }] });
    expect(m).toMatchObject({ name: 'XP-Lab--old', cpu: '1', memory: '512Mi', firmware: 'BIOS', machine: 'pc', os: 'windows · WindowsXP', scsiController: '—' });
    expect(m.disks).toEqual([{ name: 'disk0', media: 'disk', bus: 'ide', format: 'qcow2', source: 'xp-lab-disk1.vmdk', found: false }]);
    expect(m.nics).toEqual([{ name: 'net0', model: 'e1000', mac: 'generated on create' }]);
  });

  it('reads a validated spec: bytes as sizes, sockets × cores, secure boot, disks found or missing, a CD-ROM and an empty disk', () => {
    const m = mappingOf(validated);
    expect(m).toMatchObject({ cpu: '4 (2 sockets × 2 cores)', memory: '8 GiB', firmware: 'UEFI with secure boot', machine: 'q35', scsiController: 'pvscsi', video: 'vmware' });
    expect(m.disks.map((d) => [d.name, d.media, d.bus, d.source, d.found])).toEqual([
      ['disk0', 'disk', 'scsi', '/srv/in/win2022-disk1.vmdk', true],
      ['disk1', 'disk', 'sata', 'win2022-disk2.vmdk', false],
      ['cdrom0', 'cdrom', 'sata', '/srv/iso/tools.iso', null],
    ]);
    expect(m.nics.map((n) => `${n.name}:${n.model}:${n.mac}`)).toEqual(['net0:e1000e:00:50:56:aa:bb:cc', 'net1:vmxnet3:generated on create']);
  });

  it('does not throw on a spec that did not validate (a dry run can answer one)', () => {
    const m = mappingOf({ spec: { name: 7, cpu: 'many', disks: 'none', networks: [null] }, disks: [] });
    expect(m).toMatchObject({ name: '7', cpu: '1', memory: '—', disks: [], nics: [{ name: '?', model: 'virtio', mac: 'generated on create' }] });
  });

  it('sizeText: whole binary units, odd byte counts as bytes, text kept', () => {
    expect([sizeText(512 * 1024 ** 2), sizeText(1536 * 1024 ** 2), sizeText(1000), sizeText('2Gi'), sizeText(undefined)]).toEqual(['512 MiB', '1536 MiB', '1000 B', '2Gi', '—']);
  });
});

describe('MappingView', () => {
  it('shows CPUs, memory, firmware, each disk with its bus and each NIC with model and MAC', () => {
    const html = renderToStaticMarkup(<MappingView view={validated} />);
    expect(html).toContain('<dd data-field="cpu">4 (2 sockets × 2 cores)</dd>');
    expect(html).toContain('<dd data-field="memory">8 GiB</dd>');
    expect(html).toContain('<dd data-field="firmware">UEFI with secure boot</dd>');
    expect(html.match(/<tr data-disk="[^"]+" data-bus="[^"]+"/g)).toEqual(['<tr data-disk="disk0" data-bus="scsi"', '<tr data-disk="disk1" data-bus="sata"', '<tr data-disk="cdrom0" data-bus="sata"']);
    expect(html).toMatch(/data-disk="disk1".*?<td class="warn">missing<\/td>/);
    expect(html).toMatch(/data-nic="net0" data-model="e1000e">.*00:50:56:aa:bb:cc/);
    expect(html).toMatch(/data-nic="net1" data-model="vmxnet3">.*generated on create/);
  });

  it('says so when the source has no disks or NICs', () => {
    const html = renderToStaticMarkup(<MappingView view={{ format: 'vmx', spec: { name: 'bare' }, disks: [] }} />);
    expect(html).toContain('data-testid="mapping-no-disks"');
    expect(html).toContain('data-testid="mapping-no-nics"');
  });
});

describe('WarningsList', () => {
  it('lists every warning of the fixture with the element it came from', () => {
    const html = renderToStaticMarkup(<WarningsList warnings={fixture.warnings} title="What does not carry over" empty="none" />);
    expect(fixture.warnings.length).toBe(5);
    expect(html).toContain('data-count="5"');
    expect(html).toContain('What does not carry over (5)');
    const items = [...html.matchAll(/<li data-source="([^"]*)"><code class="small">([^<]*)<\/code>: ([^<]*)<\/li>/g)];
    expect(items.map((m) => m[2])).toEqual(fixture.warnings.map((w) => w.source));
    expect(items.map((m) => m[3]!.replace(/&quot;/g, '"'))).toEqual(fixture.warnings.map((w) => w.message));
    expect(html).toContain('NIC model PCNet32 has no QEMU equivalent here: it becomes e1000');
  });

  it('escapes markup in a hostile descriptor\'s text, and shows the empty line when nothing was lost', () => {
    const html = renderToStaticMarkup(<WarningsList warnings={[{ source: 'vmx:<script>', message: '<img src=x onerror=alert(1)>' }]} title="t" empty="none" />);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(renderToStaticMarkup(<WarningsList warnings={[]} title="t" empty="Nothing was lost." />)).toContain('<p class="ok" role="status">Nothing was lost.</p>');
  });
});
