import { describe, expect, it } from 'vitest';
import { fix, parseVersion } from './index.js';

describe('doctor helpers', () => {
  it('reads QEMU and qemu-img versions', () => {
    expect(parseVersion('QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)')).toEqual([7, 2, 19]);
    expect(parseVersion('qemu-img version 9.0.0 (v9.0.0)')).toEqual([9, 0, 0]);
    expect(parseVersion('nothing')).toBeNull();
  });

  it('prints fix commands the way a user would type them', () => {
    expect(fix('polyvisor', 'disk', 'detach', 'web', 'data').command).toBe('polyvisor disk detach web data');
    expect(fix('rm', '-r', '--', "/tmp/a b/it's").command).toBe(`rm -r -- '/tmp/a b/it'\\''s'`);
    expect(fix('kill', '42').argv).toEqual(['kill', '42']);
  });
});
