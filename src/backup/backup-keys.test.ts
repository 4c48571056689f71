import { describe, expect, it } from 'vitest';
import { validateSpec } from '../spec/index.js';
import { encryptedBackupDisks } from './backup-ops.js';

// Which backup keys (backup.<vm-id>.<disk>) the remaining backups still need: prune removes the others.
describe('backup keys', () => {
  const enc = validateSpec({ name: 'v', disks: [{ name: 'data', size: '1G', encrypt: true }, { name: 'plain', size: '1G' }] });
  const plainNow = validateSpec({ name: 'v', disks: [{ name: 'data', size: '1G' }, { name: 'plain', size: '1G' }] });
  const rec = (spec: typeof enc, disks: string[]) => ({ spec, disks: disks.map((disk) => ({ disk })) }) as unknown as Parameters<typeof encryptedBackupDisks>[0][number];

  it('names the disks whose backups are encrypted, as the spec recorded with each backup says', () => {
    expect([...encryptedBackupDisks([rec(enc, ['data', 'plain'])])]).toEqual(['data']);
    expect([...encryptedBackupDisks([rec(enc, ['plain'])])]).toEqual([]); // data not in that backup: its key is not needed for it
    expect([...encryptedBackupDisks([rec(plainNow, ['data', 'plain'])])]).toEqual([]); // backed up after the disk stopped being encrypted
    expect([...encryptedBackupDisks([rec(plainNow, ['data']), rec(enc, ['data'])])]).toEqual(['data']);
    expect([...encryptedBackupDisks([])]).toEqual([]);
  });
});
