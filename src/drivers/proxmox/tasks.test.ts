import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../../shared/index.js';
import { parseUpid, progressOf } from './tasks.js';

describe('proxmox tasks', () => {
  it('reads a UPID', () => {
    expect(parseUpid('UPID:pve1:0003A1F2:0B2C4D6E:6720B1C4:qmstart:100:root@pam!tok:')).toMatchObject({ node: 'pve1', type: 'qmstart', id: '100' });
    let err: unknown;
    try {
      parseUpid(null);
    } catch (e) {
      err = e;
    }
    expect(isPolyvisorError(err, 'ENDPOINT_PROTOCOL')).toBe(true);
  });

  it('progress from the log lines of drive mirrors and migrations', () => {
    expect(progressOf('drive-scsi0: transferred 2.0 GiB of 8.0 GiB (25.00%) in 2s')).toBe(0.25);
    expect(progressOf('2024-05-01 10:00:01 migration active, transferred 512.0 MiB of 2.0 GiB VM-state, 110.2 MiB/s')).toBe(0.25);
    expect(progressOf('starting migration of VM 100 to node \'pve2\'')).toBeUndefined();
  });
});
