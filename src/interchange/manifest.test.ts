import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { parseManifest, writeManifest } from './manifest.js';

const SHA256 = 'a'.repeat(64);
const SHA1 = 'B'.repeat(40);

describe('manifests', () => {
  it('reads ovftool and VirtualBox .mf lines (SHA1, SHA256, CRLF) and SHA256SUMS', () => {
    expect(parseManifest(`SHA256(web.ovf)= ${SHA256}\r\nSHA1 (web-disk1.vmdk) = ${SHA1}\r\n`)).toEqual([
      { file: 'web.ovf', algorithm: 'sha256', digest: SHA256 },
      { file: 'web-disk1.vmdk', algorithm: 'sha1', digest: SHA1.toLowerCase() },
    ]);
    expect(parseManifest(`${SHA256}  web.ovf\n${SHA256} *web.mf\n`).map((e) => e.file)).toEqual(['web.ovf', 'web.mf']);
  });

  it('writes both styles and reads them back', () => {
    const entries = [{ file: 'a.ovf', algorithm: 'sha256' as const, digest: SHA256 }, { file: 'a-disk1.vmdk', algorithm: 'sha256' as const, digest: 'b'.repeat(64) }];
    expect(writeManifest(entries)).toBe(`SHA256(a.ovf)= ${SHA256}\nSHA256(a-disk1.vmdk)= ${'b'.repeat(64)}\n`);
    expect(parseManifest(writeManifest(entries))).toEqual(entries);
    expect(parseManifest(writeManifest(entries, 'sums'))).toEqual(entries);
  });

  it('refuses paths out of the package, wrong digest lengths, garbage and duplicates', () => {
    for (const [text, re] of [
      [`SHA256(../etc/shadow)= ${SHA256}`, /outside/],
      [`SHA256(/etc/shadow)= ${SHA256}`, /outside/],
      [`SHA256(a.ovf)= ${SHA1}`, /not a SHA256 digest/],
      ['hello world', /neither/],
      [`SHA256(a)= ${SHA256}\nSHA256(a)= ${SHA256}`, /twice/],
      [`${'c'.repeat(50)}  a.ovf`, /neither SHA1/],
    ] as const) {
      try {
        parseManifest(text);
        expect.unreachable(text);
      } catch (err) {
        expect(isPolyvisorError(err, 'INTERCHANGE_INVALID')).toBe(true);
        expect((err as Error).message).toMatch(re);
      }
    }
  });
});
