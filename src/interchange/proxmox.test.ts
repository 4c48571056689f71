/**
 * Proxmox qemu-server .conf both ways: golden files of the written config and
 * of what the reader makes of it (test/golden/interchange/proxmox/;
 * UPDATE_GOLDEN=1 rewrites them), round trips, and configs that are refused.
 */
import { describe, expect, it } from 'vitest';
import { EXPORT_CASES } from '../../test/golden/interchange/export-cases.js';
import { expectCoreKept, exportDisks, golden, planJson, validatedPlan } from '../../test/golden/interchange/golden-text.js';
import { validateSpec } from '../spec/index.js';
import { readProxmox } from './proxmox-read.js';
import { PROXMOX_EXPORT_VMID, writeProxmox } from './proxmox-write.js';

describe('Proxmox golden cases (spec → .conf → plan)', () => {
  for (const c of EXPORT_CASES) {
    it(c.name, () => {
      const spec = validateSpec(c.spec);
      const disks = exportDisks(spec, 'qcow2', 'qcow2', (_d, i) => `vm-${PROXMOX_EXPORT_VMID}-disk-${i}.qcow2`);
      const out = writeProxmox({ spec, disks });
      const conf = out.files[0]!.content;
      golden('proxmox', `${c.name}.conf`, conf);
      golden('proxmox', `${c.name}.export.json`, `${JSON.stringify(out.warnings, null, 2)}\n`);
      const plan = readProxmox(conf, {});
      golden('proxmox', `${c.name}.plan.json`, planJson(plan));
      const back = validatedPlan(plan);
      expectCoreKept(spec, back);
      // Proxmox keeps nearly everything: buses, cache modes, topology, machine, devices, serial, agent.
      expect(back.machine.type).toBe(spec.machine.type);
      expect(back.disks.map((d) => [d.bus, d.cache])).toEqual(spec.disks.map((d) => [d.bus, d.cache]));
      expect([back.cpu.sockets, back.cpu.cores * back.cpu.threads]).toEqual([spec.cpu.sockets, spec.cpu.cores * spec.cpu.threads]);
      expect(back.networks.map((n) => n.model)).toEqual(spec.networks.map((n) => n.model));
      expect([back.serial.enabled, back.agent.enabled, back.display.video, back.description]).toEqual([spec.serial.enabled, spec.agent.enabled, spec.display.video, spec.description]);
      expect(back.scsiController ?? 'virtio-scsi').toBe(spec.disks.some((d) => d.bus === 'scsi') ? spec.scsiController ?? 'virtio-scsi' : 'virtio-scsi');
      expect(plan.disks.filter((d) => d.format === 'qcow2').map((d) => [d.file, d.capacity])).toEqual(disks.map((d) => [d.file, d.capacity]));
    });
  }
});

describe('the Proxmox reader', () => {
  it('refuses lines that are not key: value, keys set twice, and numbers that are not', () => {
    expect(() => readProxmox('name: a\nthis is not a config\n', {})).toThrow(/line 2 is not "key: value"/);
    expect(() => readProxmox('name: a\nname: b\n', {})).toThrow(/sets name twice/);
    expect(() => readProxmox('name: a\nmemory: lots\n', {})).toThrow(/memory "lots" is not a whole number/);
    expect(() => readProxmox('name: a\ncores: 99999999999999999999\n', {})).toThrow(/too large/);
    expect(() => readProxmox('\n\n', {})).toThrow(/no settings/);
  });

  it('with --virtio, emulated NICs and disk buses become virtio, each warned', () => {
    const plan = readProxmox('name: w\nmemory: 1024\nsata0: local:100/vm-100-disk-0.qcow2,size=8G\nnet0: e1000=BC:24:11:00:00:01,bridge=vmbr0\n', { virtio: true });
    expect(plan.spec.disks?.[0]).toMatchObject({ bus: 'virtio' });
    expect(plan.spec.networks?.[0]).toMatchObject({ model: 'virtio', mac: 'bc:24:11:00:00:01' });
    expect(plan.warnings.map((w) => w.source)).toEqual(['net0', 'net0.bridge']);
  });
});
