/**
 * Real-world inputs (test/fixtures/interchange/, sources in SOURCES.md there):
 * each reads into the plan stored beside it, with exactly the warnings
 * expected. `UPDATE_GOLDEN=1` rewrites the plans; review the diff.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLibvirtXml } from '../drivers/libvirt/interchange-format.js';
import { readHyperv } from './hyperv-read.js';
import { readProxmox } from './proxmox-read.js';
import type { ImportPlan, Reader } from './types.js';

const DIR = path.resolve(import.meta.dirname, '..', '..', 'test', 'fixtures', 'interchange');
const READERS: Record<string, { ext: RegExp; read: Reader }> = {
  hyperv: { ext: /\.(ps1|xml)$/, read: readHyperv },
  proxmox: { ext: /\.conf$/, read: readProxmox },
  libvirt: { ext: /\.xml$/, read: readLibvirtXml },
};

function plan(file: string, p: ImportPlan): void {
  const golden = `${file}.plan.json`;
  const text = `${JSON.stringify(p, null, 2)}\n`;
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(golden)) writeFileSync(golden, text);
  expect(text).toBe(readFileSync(golden, 'utf8'));
}

describe('real-world inputs read into their stored plans', () => {
  for (const [format, { ext, read }] of Object.entries(READERS)) {
    const dir = path.join(DIR, format);
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => ext.test(f)).sort() : [];
    for (const f of files) {
      it(`${format}/${f}`, () => {
        const p = read(readFileSync(path.join(dir, f), 'utf8'), {});
        expect(p.format).toBe(format);
        for (const w of p.warnings) expect(w.source).not.toBe('');
        plan(path.join(dir, f), p);
      });
    }
  }
});
