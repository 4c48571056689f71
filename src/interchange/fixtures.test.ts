/**
 * Descriptors in the shapes other tools write (ovftool, ESXi, VirtualBox 4-7,
 * Workstation, Fusion, Packer; test/fixtures/interchange/, see SOURCES.md):
 * each reads into a plan whose spec validates, with exactly the warnings in
 * its FILE.plan.json (UPDATE_GOLDEN=1 rewrites them; review the diff).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateSpec } from '../spec/index.js';
import { absolutePaths } from '../../test/golden/interchange/golden.js';
import { readOvf } from './ovf-read.js';
import type { Reader } from './types.js';
import { readVbox } from './vbox-read.js';
import { readVmx } from './vmx-read.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..', 'test', 'fixtures', 'interchange');
const READERS: Record<string, Reader> = { ovf: readOvf, vmx: readVmx, vbox: readVbox };

describe('real-world shapes import with the warnings expected', () => {
  for (const [format, read] of Object.entries(READERS)) {
    const files = readdirSync(path.join(ROOT, format)).filter((f) => f.endsWith(`.${format}`));
    it(`${format}: has fixtures`, () => expect(files.length).toBeGreaterThanOrEqual(3));
    for (const f of files) {
      it(`${format}/${f}`, () => {
        const plan = read(readFileSync(path.join(ROOT, format, f), 'utf8'), {});
        const spec = validateSpec(absolutePaths(plan.spec));
        expect(spec.name.length).toBeGreaterThan(0);
        const text = `${JSON.stringify(plan, null, 2)}\n`;
        const expected = path.join(ROOT, format, `${f}.plan.json`);
        if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(expected)) writeFileSync(expected, text);
        expect(text).toBe(readFileSync(expected, 'utf8'));
      });
    }
  }
});
