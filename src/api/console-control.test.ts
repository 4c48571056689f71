import { describe, expect, it } from 'vitest';
import { isControlFrame, parseControl } from './console-control.js';

const b = (s: string) => Buffer.from(s);

describe('console control frames', () => {
  it('only text frames starting with "{" are control frames', () => {
    expect(isControlFrame(false, b('{"type":"resize"}'))).toBe(true);
    expect(isControlFrame(true, b('{"type":"resize"}'))).toBe(false);
    expect(isControlFrame(false, b('ls\n'))).toBe(false);
  });

  it('accepts a resize', () => {
    expect(parseControl(b('{"type":"resize","cols":120,"rows":40}'))).toEqual({ ok: true, control: { type: 'resize', cols: 120, rows: 40 } });
  });

  it.each([
    ['{nope', /not valid JSON/],
    ['{"type":"resize","cols":0,"rows":40}', /cols/],
    ['{"type":"resize","cols":80.5,"rows":40}', /cols/],
    ['{"type":"resize","cols":"80","rows":40}', /cols/],
    ['{"type":"resize","cols":80,"rows":100000}', /rows/],
    ['{"type":"resize","cols":80}', /rows/],
    ['{"type":"resize","cols":80,"rows":24,"x":1}', /unknown field x/],
    ['{"type":"reboot"}', /unknown control type/],
    ['{}', /unknown control type/],
    [`{"type":"resize","pad":"${'x'.repeat(2000)}"}`, /1 KiB/],
  ])('rejects %s', (frame, why) => {
    const r = parseControl(b(frame));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(why);
  });
});
