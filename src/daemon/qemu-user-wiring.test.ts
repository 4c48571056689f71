import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openTunForVmUsers } from './qemu-user-wiring.js';

const logs: Array<[string, unknown]> = [];
const logger = { info: (o: unknown, m: string) => logs.push([m, o]), warn: (o: unknown, m: string) => logs.push([m, o]) } as never;
let dir = '';
afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); logs.length = 0; });

describe('openTunForVmUsers (a stand-in file for /dev/net/tun)', () => {
  it('gives a 0600 node Debian\'s 0666 and says so; leaves a 0666 one and a missing one alone', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pv-tun-'));
    const node = path.join(dir, 'tun');
    writeFileSync(node, '');
    chmodSync(node, 0o600);
    await openTunForVmUsers(logger, node);
    expect(statSync(node).mode & 0o777).toBe(0o666);
    expect(logs.map((l) => l[0])).toEqual([expect.stringContaining('0666')]);
    await openTunForVmUsers(logger, node);
    await openTunForVmUsers(logger, path.join(dir, 'missing'));
    expect(logs).toHaveLength(1);
  });
});
