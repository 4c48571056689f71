/**
 * Real-world inputs (test/fixtures/interchange/, sources in SOURCES.md there):
 * each reads into the plan stored beside it, with exactly the warnings
 * expected — or, for a file Polyvisor cannot take (a vApp of several VMs, a
 * descriptor outside what the reader accepts), into the refusal stored
 * beside it (`FILE.refused.json`: code and message). The verbatim copies of
 * other projects' files sit under `real-world/` (govmomi's OVF fixtures,
 * VMware appliance descriptors, a real OVA with its SHA1 manifest; ESXi,
 * Workstation and Fusion .vmx files from virt-v2v's and libvirt's tests; .vbox
 * files written by VirtualBox 7 and by libvirt's VirtualBox driver).
 * `UPDATE_GOLDEN=1` rewrites the plans; review the diff.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLibvirtXml } from '../drivers/libvirt/interchange-format.js';
import { isPolyvisorError } from '../shared/index.js';
import { readHyperv } from './hyperv-read.js';
import { readOvf } from './ovf-read.js';
import { listTar, readMember } from './tar-read.js';
import { parseManifest } from './manifest.js';
import { createHash } from 'node:crypto';
import { readProxmox } from './proxmox-read.js';
import { readVbox } from './vbox-read.js';
import { readVmx } from './vmx-read.js';
import type { ImportPlan, Reader } from './types.js';

const DIR = path.resolve(import.meta.dirname, '..', '..', 'test', 'fixtures', 'interchange');
const READERS: Record<string, { ext: RegExp; read: Reader; format: string }> = {
  hyperv: { ext: /\.(ps1|xml)$/, read: readHyperv, format: 'hyperv' },
  proxmox: { ext: /\.conf$/, read: readProxmox, format: 'proxmox' },
  libvirt: { ext: /\.xml$/, read: readLibvirtXml, format: 'libvirt' },
  'real-world/ovf': { ext: /\.ovf$/, read: readOvf, format: 'ovf' },
  'real-world/vmx': { ext: /\.vmx$/, read: readVmx, format: 'vmx' },
  'real-world/vbox': { ext: /\.vbox$/, read: readVbox, format: 'vbox' },
};

function stored(golden: string, text: string): void {
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(golden)) writeFileSync(golden, text);
  expect(text).toBe(readFileSync(golden, 'utf8'));
}

function plan(file: string, p: ImportPlan): void {
  const golden = `${file}.plan.json`;
  const text = `${JSON.stringify(p, null, 2)}\n`;
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(golden)) writeFileSync(golden, text);
  expect(text).toBe(readFileSync(golden, 'utf8'));
}

describe('real-world inputs read into their stored plans (or refusals)', () => {
  for (const [sub, { ext, read, format }] of Object.entries(READERS)) {
    const dir = path.join(DIR, sub);
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => ext.test(f)).sort() : [];
    for (const f of files) {
      it(`${sub}/${f}`, () => {
        const file = path.join(dir, f);
        let p: ImportPlan;
        try {
          p = read(readFileSync(file, 'utf8'), {});
        } catch (err) {
          if (!isPolyvisorError(err)) throw err;
          expect(existsSync(`${file}.plan.json`)).toBe(false);
          return stored(`${file}.refused.json`, `${JSON.stringify({ code: err.code, message: err.message }, null, 2)}\n`);
        }
        expect(existsSync(`${file}.refused.json`)).toBe(false);
        expect(p.format).toBe(format);
        for (const w of p.warnings) expect(w.source).not.toBe('');
        plan(file, p);
      });
    }
  }

  it('real-world/ovf holds at least 20 verbatim descriptors, most of them importable', () => {
    const dir = path.join(DIR, 'real-world', 'ovf');
    const all = readdirSync(dir).filter((f) => f.endsWith('.ovf'));
    expect(all.length).toBeGreaterThanOrEqual(20);
    expect(all.filter((f) => existsSync(path.join(dir, `${f}.plan.json`))).length).toBeGreaterThan(all.length / 2);
  });

  it('real-world/vmx and real-world/vbox hold verbatim files of VMware ESXi/Workstation/Fusion and VirtualBox, each importable', () => {
    for (const [sub, ext, least] of [['vmx', '.vmx', 5], ['vbox', '.vbox', 2]] as const) {
      const dir = path.join(DIR, 'real-world', sub);
      const all = readdirSync(dir).filter((f) => f.endsWith(ext));
      expect(all.length).toBeGreaterThanOrEqual(least);
      for (const f of all) expect(existsSync(path.join(dir, `${f}.plan.json`)), f).toBe(true);
    }
  });

  it('real-world/ova: govmomi\'s ttylinux OVA (macOS tar, SHA1 manifest) lists and verifies', async () => {
    const ova = path.join(DIR, 'real-world', 'ova', 'ttylinux-pc_i486-16.1.ova');
    const members = await listTar(ova);
    expect(members.map((m) => [m.name, m.size])).toEqual([['ttylinux-pc_i486-16.1.ovf', 5005], ['ttylinux-pc_i486-16.1.mf', 159], ['ttylinux-pc_i486-16.1-disk1.vmdk', 1048576]]);
    const mf = parseManifest((await readMember(ova, members[1]!, 4096)).toString('utf8'));
    expect(mf.map((e) => e.algorithm)).toEqual(['sha1', 'sha1']);
    for (const e of mf) {
      const m = members.find((x) => x.name === e.file)!;
      expect(createHash('sha1').update(await readMember(ova, m, 2 * 1024 * 1024)).digest('hex'), e.file).toBe(e.digest);
    }
    const p = readOvf((await readMember(ova, members[0]!, 1024 * 1024)).toString('utf8'), {});
    expect(p.disks.map((d) => d.file)).toEqual(['ttylinux-pc_i486-16.1-disk1.vmdk']);
  });
});
