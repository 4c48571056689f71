import { describe, expect, it } from 'vitest';
import { JsonLineDecoder, MAX_LINE_BYTES } from './framing.js';

const values = (ds: ReturnType<JsonLineDecoder['push']>): unknown[] => ds.map((d) => (d.ok ? d.value : `bad: ${d.line}`));

describe('JsonLineDecoder', () => {
  it('splits several messages in one chunk and keeps a partial tail', () => {
    const d = new JsonLineDecoder();
    expect(values(d.push(Buffer.from('{"a":1}\r\n{"b":2}\r\n{"c"')))).toEqual([{ a: 1 }, { b: 2 }]);
    expect(values(d.push(Buffer.from(':3}\r\n')))).toEqual([{ c: 3 }]);
  });

  it('reassembles a UTF-8 character cut between chunks', () => {
    const d = new JsonLineDecoder();
    const bytes = Buffer.from('{"s":"€"}\n');
    const out = [...d.push(bytes.subarray(0, 7)), ...d.push(bytes.subarray(7))];
    expect(values(out)).toEqual([{ s: '€' }]);
  });

  it('reports unparseable lines, skips blank ones and drops the agent 0xff sentinel', () => {
    const d = new JsonLineDecoder();
    const out = d.push(Buffer.concat([Buffer.from('nope\n\r\n'), Buffer.from([0xff]), Buffer.from('{"return":7}\n')]));
    expect(values(out)).toEqual(['bad: nope', { return: 7 }]);
  });

  it('refuses a line longer than the limit', () => {
    const d = new JsonLineDecoder();
    const out = d.push(Buffer.alloc(MAX_LINE_BYTES + 1, 0x41));
    expect(out[0]).toMatchObject({ ok: false });
    expect(values(d.push(Buffer.from('{"ok":true}\n')))).toEqual([{ ok: true }]);
  });
});
