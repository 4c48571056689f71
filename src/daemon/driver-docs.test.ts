import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CAPABILITIES, renderDriverDocs } from '../drivers/index.js';
import { buildDriverRegistry } from './driver-wiring.js';

describe('docs/drivers.md', () => {
  it('is the registry\'s table (run `npx tsx scripts/gen-driver-docs.ts` after changing a driver\'s matrix)', () => {
    const doc = readFileSync(new URL('../../docs/drivers.md', import.meta.url), 'utf8');
    expect(doc).toBe(renderDriverDocs(buildDriverRegistry().list()));
  });

  it('every driver declares every capability, and the file-format-only hypervisors refuse every live one', () => {
    const reg = buildDriverRegistry();
    for (const r of reg.list()) {
      expect(Object.keys(r.capabilities).sort()).toEqual([...CAPABILITIES].sort());
      if (!r.live) {
        for (const c of CAPABILITIES.filter((x) => x !== 'import' && x !== 'export')) {
          expect(() => reg.require(r.name, c)).toThrow(/CAPABILITY|cannot do/);
        }
      }
    }
  });
});
