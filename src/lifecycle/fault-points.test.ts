import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { faultPoint } from './fault-points.js';

const saved = process.env['POLYVISOR_TEST_DELAYS'];
afterEach(() => {
  if (saved === undefined) delete process.env['POLYVISOR_TEST_DELAYS'];
  else process.env['POLYVISOR_TEST_DELAYS'] = saved;
});

describe('faultPoint', () => {
  it('does nothing when unset or for another point', async () => {
    delete process.env['POLYVISOR_TEST_DELAYS'];
    const t = Date.now();
    await faultPoint('a:b');
    process.env['POLYVISOR_TEST_DELAYS'] = 'other:point=5000';
    await faultPoint('a:b');
    expect(Date.now() - t).toBeLessThan(1000);
  });

  it('sleeps the given milliseconds at its point', async () => {
    process.env['POLYVISOR_TEST_DELAYS'] = 'x:y=1,a:b=300';
    const t = Date.now();
    await faultPoint('a:b');
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
  });

  it('file:PATH holds until the file exists', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-gate-'));
    try {
      const file = path.join(dir, 'open');
      process.env['POLYVISOR_TEST_DELAYS'] = `a:b=file:${file}`;
      let passed = false;
      const held = faultPoint('a:b').then(() => (passed = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(passed).toBe(false);
      writeFileSync(file, '');
      await held;
      expect(passed).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
