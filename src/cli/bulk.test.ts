import { describe, expect, it } from 'vitest';
import type { BulkReport } from '../spec/index.js';
import { parseSelector, renderReport } from './bulk.js';

describe('bulk helpers', () => {
  it('parses selectors', () => {
    expect(parseSelector(['env=test,tier=db', 'x='])).toEqual({ env: 'test', tier: 'db', x: '' });
    expect(() => parseSelector(['=a'])).toThrow(/KEY=VALUE/);
  });

  it('renders the report: one row per VM, the failed one with its code, a summary line', () => {
    const base = { before: 'running' as const, output: null, reason: null, error: null, ms: 0 };
    const rep: BulkReport = {
      action: 'snapshot', selector: 'env=test', names: null, dryRun: false, concurrency: 4, total: 3, done: 3, ok: 1, failed: 1, skipped: 1,
      results: [
        { ...base, vm: 'a', result: 'ok', after: 'running', output: { snapshot: 's1' }, ms: 1200 },
        { ...base, vm: 'b', result: 'failed', after: null, error: { code: 'SNAPSHOT_UNSUPPORTED', message: 'VM b has no disk', hint: '' }, ms: 30 },
        { ...base, vm: 'c', result: 'skipped', before: 'error', after: 'error', reason: 'a snapshot is not possible while error' },
      ],
    };
    const text = renderReport(rep);
    expect(text).toMatch(/^VM\s+BEFORE\s+RESULT\s+AFTER\s+TIME\s+DETAIL/);
    expect(text).toMatch(/a\s+running\s+ok\s+running\s+1\.2s\s+snapshot=s1/);
    expect(text).toMatch(/b\s+running\s+failed\s+-\s+0\.0s\s+error\[SNAPSHOT_UNSUPPORTED\]: VM b has no disk/);
    expect(text).toMatch(/c\s+error\s+skipped\s+error\s+-\s+a snapshot is not possible while error/);
    expect(text).toMatch(/3 VM\(s\) match env=test: 1 ok, 1 failed, 1 skipped\n$/);
  });
});
