import { describe, expect, it } from 'vitest';
import { b64, prefixEnd, toKv } from './codec.js';

const dec = (s: string) => Buffer.from(s, 'base64');

describe('etcd gateway codec', () => {
  it('ends a prefix range just past the prefix', () => {
    expect(dec(prefixEnd('/pv/vms/')).toString()).toBe('/pv/vms0');
    expect([...dec(prefixEnd('a\u00ff'))]).toEqual([0x61, 0xc3, 0xc0]);
    expect([...dec(prefixEnd(Buffer.from([0xff]).toString('latin1')))]).toEqual([0xc3, 0xc0]);
  });

  it('decodes a key-value with int64 strings and defaults', () => {
    expect(toKv({ key: b64('/k'), value: b64('v'), create_revision: '5', mod_revision: '7', version: '2', lease: '99999999999999999' })).toEqual({
      key: '/k', value: 'v', createRevision: 5, modRevision: 7, version: 2, lease: '99999999999999999',
    });
    expect(toKv({ key: b64('/k') })).toEqual({ key: '/k', value: '', createRevision: 0, modRevision: 0, version: 0, lease: '0' });
  });
});
