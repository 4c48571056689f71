import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateSpec } from '../../spec/index.js';
import { stableMac } from './names.js';
import { GuestNicStats, nicCountersOf } from './nic-stats.js';

const spec = validateSpec({ name: 'n', boot: { kernel: '/k' }, networks: [{ name: 'net0' }, { name: 'lan', mac: '52:54:00:aa:bb:cc' }, { name: 'gone' }] });
const stat = (rx: number, tx: number) => ({ 'rx-bytes': rx, 'rx-packets': rx / 100, 'tx-bytes': tx, 'tx-packets': tx / 100 });

describe('guest NIC counters', () => {
  it('are matched to the spec NICs by MAC (derived or given), case-insensitively; others are ignored', () => {
    const got = nicCountersOf(spec, 'vm-1', [
      { name: 'lo', 'hardware-address': '00:00:00:00:00:00', statistics: stat(5, 5) },
      { name: 'eth1', 'hardware-address': '52:54:00:AA:BB:CC', statistics: stat(300, 400) },
      { name: 'eth0', 'hardware-address': stableMac('vm-1', 'net0'), statistics: stat(1000, 2000) },
      { name: 'eth9', 'hardware-address': stableMac('vm-2', 'gone'), statistics: stat(7, 7) },
    ]);
    expect(got).toEqual([
      { nic: 'net0', rxBytes: 1000, txBytes: 2000, rxPackets: 10, txPackets: 20 },
      { nic: 'lan', rxBytes: 300, txBytes: 400, rxPackets: 3, txPackets: 4 },
    ]);
  });

  const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-nic-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('an agent that does not answer is not asked again for a while', async () => {
    const sock = path.join(dir, 'qga.sock');
    let connections = 0;
    const server = net.createServer((c) => { connections++; c.on('error', () => undefined); c.resume(); }).listen(sock); // reads, never answers
    await new Promise((r) => server.once('listening', r));
    let now = 1_000_000;
    const nics = new GuestNicStats(sock, spec, 'vm-1', () => now);
    const signal = new AbortController().signal;
    expect(await nics.read(signal)).toEqual([]);
    expect(connections).toBe(1);
    expect(await nics.read(signal)).toEqual([]);
    expect(connections).toBe(1);
    now += 31_000;
    expect(await nics.read(signal)).toEqual([]);
    expect(connections).toBe(2);
    await new Promise((r) => server.close(r));
  });

  it('asks nothing of a VM without an agent or without NICs', async () => {
    const none = new GuestNicStats(path.join(dir, 'absent.sock'), validateSpec({ name: 'n', boot: { kernel: '/k' } }), 'vm-1');
    expect(await none.read(new AbortController().signal)).toEqual([]);
  });
});
