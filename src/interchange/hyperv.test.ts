/**
 * Hyper-V both ways: golden files of the written script and of what the
 * reader makes of it (test/golden/interchange/hyperv/; UPDATE_GOLDEN=1
 * rewrites them), round trips, the configuration XML reader, and scripts that
 * must not be taken for values.
 */
import { describe, expect, it } from 'vitest';
import { EXPORT_CASES } from '../../test/golden/interchange/export-cases.js';
import { expectCoreKept, exportDisks, golden, planJson, validatedPlan } from '../../test/golden/interchange/golden-text.js';
import { isPolyvisorError } from '../shared/index.js';
import { validateSpec } from '../spec/index.js';
import { readHyperv } from './hyperv-read.js';
import { writeHyperv } from './hyperv-write.js';
import { readPowerShell } from './ps-tokens.js';

describe('Hyper-V script golden cases (spec → script → plan)', () => {
  for (const c of EXPORT_CASES) {
    it(c.name, () => {
      const spec = validateSpec(c.spec);
      const out = writeHyperv({ spec, disks: exportDisks(spec, 'vhdx', 'vhdx') });
      expect(out.files.map((f) => f.name)).toEqual([`${spec.name}.ps1`]);
      const script = out.files[0]!.content;
      golden('hyperv', `${c.name}.ps1`, script);
      golden('hyperv', `${c.name}.export.json`, `${JSON.stringify(out.warnings, null, 2)}\n`);
      const plan = readHyperv(script, {});
      golden('hyperv', `${c.name}.plan.json`, planJson(plan));
      const back = validatedPlan(plan);
      expectCoreKept(spec, back);
      expect(back.machine.type).toBe(spec.boot.firmware === 'uefi' ? 'q35' : 'pc');
      expect(back.boot.secureBoot).toBe(spec.boot.firmware === 'uefi' ? spec.boot.secureBoot === true : undefined);
      expect(back.networks.map((n) => n.name)).toEqual(spec.networks.map((n) => n.name));
      expect(plan.disks.filter((d) => d.format === 'vhdx').map((d) => d.file)).toEqual(exportDisks(spec, 'vhdx', 'vhdx').map((d) => d.file));
    });
  }
});

describe('the PowerShell reader', () => {
  it('reads variables, backtick continuations, size suffixes, switches and -Param:value, never an expression', () => {
    const cmds = readPowerShell([
      "$Name = 'lab-dc'",
      'New-VM -Name $Name `',
      '  -MemoryStartupBytes 4GB -Generation 2 -NoVHD # comment',
      '<# block',
      'Set-VMProcessor -Count 64 #>',
      'Set-VMProcessor -VMName "$Name" -Count 2; Set-VMFirmware -VMName $Name -EnableSecureBoot:Off',
      'Add-VMHardDiskDrive -VMName $Name -Path (Get-Item x).FullName',
      "Add-VMDvdDrive -VMName $Unknown -Path 'it''s.iso'",
    ].join('\n'));
    expect(cmds.map((c) => c.name)).toEqual(['New-VM', 'Set-VMProcessor', 'Set-VMFirmware', 'Add-VMHardDiskDrive', 'Add-VMDvdDrive']);
    expect(Object.fromEntries(cmds[0]!.params)).toEqual({ name: 'lab-dc', memorystartupbytes: 4 * 1024 ** 3, generation: 2, novhd: true });
    expect(cmds[1]!.params.get('vmname')).toBe('lab-dc');
    expect(cmds[2]!.params.get('enablesecureboot')).toBe('Off');
    expect(cmds[3]!.params.get('path')).toEqual({ unknown: 'an expression' });
    expect(cmds[4]!.params.get('vmname')).toEqual({ unknown: '$unknown' });
    expect(cmds[4]!.params.get('path')).toBe("it's.iso");
  });

  it('maps a hand-written script, warning for what it cannot know or keep', () => {
    const plan = readHyperv([
      "$VMName = 'TESTVM'",
      "$Switch = 'External VM Switch'",
      'New-VM -Name $VMName -MemoryStartupBytes 2147483648 -Generation 2 -NewVHDPath "D:\\VMs\\$VMName\\$VMName.vhdx" -NewVHDSizeBytes 53687091200 -SwitchName $Switch',
      'Add-VMDvdDrive -VMName $VMName -ControllerNumber 0 -ControllerLocation 1 -Path $InstallMedia',
      'Add-VMHardDiskDrive -VMName $VMName -ControllerType SCSI -Path "D:\\VMs\\data.vhdx"',
      'Set-VMProcessor -VMName $VMName -Count 2',
      'Set-VMMemory -VMName $VMName -DynamicMemoryEnabled $true',
      'Enable-VMTPM -VMName $VMName',
    ].join('\r\n'), {});
    expect(plan.spec).toMatchObject({ name: 'TESTVM', cpu: { count: 2 }, memory: '2Gi', machine: { type: 'q35' }, boot: { firmware: 'uefi', secureBoot: true } });
    expect(plan.spec.disks).toEqual([
      { name: 'disk0', path: 'data.vhdx', format: 'qcow2', bus: 'scsi' },
      { name: 'new0', size: 53687091200, format: 'qcow2', bus: 'scsi' },
    ]);
    expect(plan.disks).toEqual([{ name: 'disk0', file: 'data.vhdx', format: 'vhdx' }]);
    expect(plan.warnings.map((w) => w.source)).toEqual([
      'line 3: New-VM -SwitchName', 'line 4: Add-VMDvdDrive -Path', 'line 7: Set-VMMemory -DynamicMemoryEnabled', 'line 8: Enable-VMTPM',
      'line 4: Add-VMDvdDrive -Path', 'line 5: Add-VMHardDiskDrive -Path', 'line 3: New-VM -NewVHDPath', 'line 3: New-VM',
    ]);
  });

  it('refuses a script without New-VM, and a generation that is not 1 or 2', () => {
    expect(() => readHyperv('Get-VM | Stop-VM', {})).toThrow(/no New-VM/);
    expect(() => readHyperv('New-VM -Name x -Generation 3', {})).toThrow(/neither 1 nor 2/);
    try {
      readHyperv('Write-Host hi', {});
    } catch (err) {
      expect(isPolyvisorError(err, 'INTERCHANGE_INVALID')).toBe(true);
    }
  });
});

describe('the Hyper-V configuration XML reader', () => {
  const xml = (body: string): string => `<?xml version="1.0" encoding="UTF-16" standalone="yes"?>\n<configuration>\n${body}\n</configuration>\n`;

  it('reads a generation 1 VM with IDE disks, a DVD, a synthetic and a legacy NIC', () => {
    const plan = readHyperv(xml(`
  <properties><name type="string">Old Server 2008</name><subtype type="integer">0</subtype></properties>
  <settings><processors><count type="integer">2</count></processors>
    <memory><bank><dynamic_memory_enabled type="bool">True</dynamic_memory_enabled><size type="integer">1024</size></bank></memory></settings>
  <_83f8638b-8dca-4152-9eda-2ca8b33039b4_>
    <controller0>
      <drive0><pathname type="string">C:\\Hyper-V\\Virtual Hard Disks\\os.vhd</pathname><type type="string">VHD</type></drive0>
      <drive1><pathname type="string"></pathname><type type="string">NONE</type></drive1>
    </controller0>
    <controller1>
      <drive0><pathname type="string">C:\\ISO\\tools.iso</pathname><type type="string">ISO</type></drive0>
    </controller1>
  </_83f8638b-8dca-4152-9eda-2ca8b33039b4_>
  <_4d1f3a1a-0000-4000-8000-000000000001_>
    <ChannelInstanceGuid type="string">{aa}</ChannelInstanceGuid>
    <Connection><AltSwitchName type="string">External</AltSwitchName></Connection>
    <friendly_name type="string">Network Adapter</friendly_name>
    <address type="string">00155D0A0B0C</address>
  </_4d1f3a1a-0000-4000-8000-000000000001_>
  <_4d1f3a1a-0000-4000-8000-000000000002_>
    <Connection><AltSwitchName type="string"></AltSwitchName></Connection>
    <friendly_name type="string">Legacy Network Adapter</friendly_name>
    <address type="string">00155D0A0B0D</address>
  </_4d1f3a1a-0000-4000-8000-000000000002_>`), {});
    expect(plan.spec).toMatchObject({ name: 'Old-Server-2008', cpu: { count: 2 }, memory: '1Gi', machine: { type: 'pc' }, boot: { firmware: 'bios' } });
    expect(plan.spec.disks).toEqual([
      { name: 'disk0', path: 'os.vhd', format: 'qcow2', bus: 'ide' },
      { name: 'cdrom0', path: 'tools.iso', media: 'cdrom', format: 'raw', bus: 'ide', readOnly: true },
    ]);
    expect(plan.disks[0]).toEqual({ name: 'disk0', file: 'os.vhd', format: 'vpc' });
    expect(plan.spec.networks).toEqual([{ name: 'net0', model: 'virtio', mac: '00:15:5d:0a:0b:0c' }, { name: 'net1', model: 'e1000', mac: '00:15:5d:0a:0b:0d' }]);
    expect(plan.warnings.map((w) => w.message).join('\n')).toMatch(/becomes Old-Server-2008[\s\S]*dynamic memory[\s\S]*switch "External"/);
    validatedPlan(plan);
  });

  it('reads generation 2 with secure boot as the file says, and Packer\'s short form', () => {
    const plan = readHyperv(xml(`<properties><subtype type="integer">1</subtype><name type="string">packer-ubuntu</name></properties>
  <settings><processors><count type="integer">4</count></processors><memory><bank><size type="integer">2048</size></bank></memory></settings>
  <AltSwitchName type="string">Default Switch</AltSwitchName><boot><device0 type="string">Optical</device0></boot>
  <secure_boot_enabled type="bool">False</secure_boot_enabled><notes type="string">built by packer</notes>`), { virtio: true });
    expect(plan.spec).toMatchObject({ name: 'packer-ubuntu', cpu: { count: 4 }, memory: '2Gi', machine: { type: 'q35' }, boot: { firmware: 'uefi', secureBoot: false }, description: 'built by packer' });
    expect(plan.spec.networks).toEqual([{ name: 'net0', model: 'virtio' }]);
    expect(plan.warnings.map((w) => w.source)).toContain('configuration/boot/device0');
  });

  it('refuses entity declarations (billion laughs), external DTDs and other roots', () => {
    const laughs = '<?xml version="1.0"?><!DOCTYPE configuration [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><configuration><properties><name>&b;</name></properties></configuration>';
    expect(() => readHyperv(laughs, {})).toThrow(/declares entities/);
    expect(() => readHyperv('<?xml version="1.0"?><!DOCTYPE configuration SYSTEM "http://127.0.0.1:1/x.dtd"><configuration/>', {})).toThrow(/external DTD/);
    expect(() => readHyperv('<configuration><name>&xxe;</name></configuration>', {})).toThrow(/not expanded/);
    expect(() => readHyperv('<domain/>', {})).toThrow(/not a Hyper-V configuration/);
    expect(() => readHyperv('<configuration><unclosed></configuration>', {})).toThrow(/not well-formed/);
  });
});
