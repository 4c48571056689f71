/**
 * libvirt domain XML as an interchange format: golden files of the exported
 * XML and of what the reader makes of it (test/golden/interchange/libvirt/;
 * UPDATE_GOLDEN=1 rewrites them); every exported XML passes libvirt's own
 * schema (virt-xml-validate) and reads back into the same spec apart from the
 * disk paths and the documented fallbacks.
 */
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXPORT_CASES } from '../../../test/golden/interchange/export-cases.js';
import { expectCoreKept, exportDisks, golden, planJson, validatedPlan } from '../../../test/golden/interchange/golden-text.js';
import { run } from '../../shared/index.js';
import { validateSpec } from '../../spec/index.js';
import { LIBVIRT_IMAGE_DIR, readLibvirtXml, writeLibvirtXml } from './interchange-format.js';

describe('libvirt golden cases (spec → domain XML → plan)', () => {
  for (const c of EXPORT_CASES) {
    it(c.name, async () => {
      const spec = validateSpec(c.spec);
      const disks = exportDisks(spec, 'qcow2', 'qcow2');
      const out = writeLibvirtXml({ spec, disks });
      const xml = out.files[0]!.content;
      golden('libvirt', `${c.name}.xml`, xml);
      golden('libvirt', `${c.name}.export.json`, `${JSON.stringify(out.warnings, null, 2)}\n`);
      const plan = readLibvirtXml(xml, {});
      golden('libvirt', `${c.name}.plan.json`, planJson(plan));
      const back = validatedPlan(plan);
      expectCoreKept(spec, back);
      expect(plan.disks.filter((d) => d.file.startsWith(LIBVIRT_IMAGE_DIR)).map((d) => d.file)).toEqual(disks.map((d) => `${LIBVIRT_IMAGE_DIR}/${d.file}`));
      // Everything else comes back as it was, apart from what the export warned about.
      const warned = out.warnings.map((w) => w.source).filter((s) => s !== 'disks' && s !== 'cloudInit');
      const strip = (s: typeof spec): unknown => {
        const copy = structuredClone({ ...s, disks: s.disks.map((d) => ({ ...d, path: undefined, size: undefined })) }) as unknown as Record<string, unknown>;
        for (const field of warned) {
          const keys = field.split('.');
          const last = keys.pop()!;
          const parent = keys.reduce<Record<string, unknown> | undefined>((o, k) => o?.[k] as Record<string, unknown> | undefined, copy);
          if (parent) delete parent[last];
        }
        return copy;
      };
      expect(strip(back)).toEqual(strip(spec));
      const dir = await mkdtemp(path.join(os.tmpdir(), 'pv-lvxml-'));
      try {
        writeFileSync(path.join(dir, 'd.xml'), xml);
        await run('virt-xml-validate', [path.join(dir, 'd.xml'), 'domain'], { timeoutMs: 30_000 });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  it('refuses entity declarations before the driver\'s parser sees them', () => {
    expect(() => readLibvirtXml('<!DOCTYPE domain [<!ENTITY x SYSTEM "file:///etc/shadow">]><domain><name>&x;</name></domain>', {})).toThrow(/declares entities/);
    expect(() => readLibvirtXml('<vm/>', {})).toThrow(/not a libvirt domain/);
  });
});
