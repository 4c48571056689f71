import { describe, expect, it } from 'vitest';
import { floodArgv, floodChanges, guestMtuFor, parseFloodEntries, requireOverlayAddress, syncFloodEntries, vxlanAddArgv, vxlanNameFor } from './vxlan.js';
import type { CommandRunner } from './runner.js';

describe('VXLAN overlay (pure parts)', () => {
  it('names the link from the VNI within IFNAMSIZ and refuses VNIs outside 24 bits', () => {
    expect(vxlanNameFor(10_000)).toBe('pvvx10000');
    expect(vxlanNameFor(0xffffff)).toHaveLength(12);
    expect(() => vxlanNameFor(0)).toThrow(/outside/);
    expect(() => vxlanNameFor(0x1000000)).toThrow(/outside/);
  });

  it('builds the add argv with the IANA port and this member\'s address', () => {
    expect(vxlanAddArgv('pvvx10000', 10_000, '10.77.0.11')).toEqual(['link', 'add', 'name', 'pvvx10000', 'type', 'vxlan', 'id', '10000', 'dstport', '4789', 'local', '10.77.0.11']);
    expect(floodArgv('append', 'pvvx10000', '10.77.0.12')).toEqual(['fdb', 'append', '00:00:00:00:00:00', 'dev', 'pvvx10000', 'dst', '10.77.0.12']);
  });

  it('gives guests the overlay MTU on bridge networks with a VNI only (NAT and local networks keep 1500)', () => {
    expect(guestMtuFor({ mode: 'bridge', vni: 10_000 })).toBe(1450);
    expect(guestMtuFor({ mode: 'bridge', vni: null })).toBeNull();
    expect(guestMtuFor({ mode: 'bridge' })).toBeNull();
    expect(guestMtuFor({ mode: 'nat', vni: 10_001 })).toBeNull();
  });

  it('accepts only IPv4 addresses as fabric addresses (they become argv words)', () => {
    expect(requireOverlayAddress('10.77.0.11', 'x')).toBe('10.77.0.11');
    for (const bad of ['-h', '10.77.0.1 dst 1.2.3.4', 'host', '300.1.1.1', '']) expect(() => requireOverlayAddress(bad, 'x')).toThrow(/not an IPv4 address/);
  });

  it('reads the flood list from bridge -j fdb and diffs it against the wanted members', () => {
    const json = JSON.stringify([
      { mac: '00:00:00:00:00:00', dst: '10.77.0.13', flags: ['self', 'permanent'] },
      { mac: '52:54:00:aa:bb:cc', dst: '10.77.0.12', flags: ['self'] },
      { mac: '00:00:00:00:00:00', dst: '10.77.0.12', flags: ['self', 'permanent'] },
      { mac: '0a:1b:2c:3d:4e:5f', flags: ['master'] },
    ]);
    expect(parseFloodEntries(json)).toEqual(['10.77.0.12', '10.77.0.13']);
    expect(parseFloodEntries('')).toEqual([]);
    expect(floodChanges(['10.77.0.12', '10.77.0.13'], ['10.77.0.12', '10.77.0.14'])).toEqual({ add: ['10.77.0.14'], del: ['10.77.0.13'] });
    expect(floodChanges(['10.77.0.12'], ['10.77.0.12'])).toEqual({ add: [], del: [] });
  });

  it('syncs the flood list: leaves this member out, deletes gone members, appends new ones, nothing when right', async () => {
    const calls: string[] = [];
    let fdb = [{ mac: '00:00:00:00:00:00', dst: '10.77.0.13' }];
    const runner: CommandRunner = {
      run(cmd, args) {
        const line = [cmd, ...args].join(' ');
        if (line.startsWith('bridge -j fdb show')) return Promise.resolve({ code: 0, signal: null, stdout: JSON.stringify(fdb), stderr: '' });
        calls.push(line);
        return Promise.resolve({ code: 0, signal: null, stdout: '', stderr: '' });
      },
    };
    const ch = await syncFloodEntries(runner, 'pvvx10000', '10.77.0.11', ['10.77.0.11', '10.77.0.12', '10.77.0.12']);
    expect(ch).toEqual({ add: ['10.77.0.12'], del: ['10.77.0.13'], forgot: [] });
    expect(calls).toEqual([
      'bridge fdb del 00:00:00:00:00:00 dev pvvx10000 dst 10.77.0.13',
      'bridge fdb append 00:00:00:00:00:00 dev pvvx10000 dst 10.77.0.12',
    ]);
    fdb = [{ mac: '00:00:00:00:00:00', dst: '10.77.0.12' }];
    calls.length = 0;
    await syncFloodEntries(runner, 'pvvx10000', '10.77.0.11', ['10.77.0.12', '10.77.0.11']);
    expect(calls).toEqual([]);
    await expect(syncFloodEntries(runner, 'pvvx10000', '10.77.0.11', ['10.77.0.12;reboot'])).rejects.toThrow(/not an IPv4/);

    // A member crashed: the MACs learned behind it go too (an HA guest restarted elsewhere keeps its MAC); the bridge's own rows and live members' stay.
    fdb = [
      { mac: '00:00:00:00:00:00', dst: '10.77.0.12' }, { mac: '00:00:00:00:00:00', dst: '10.77.0.13' },
      { mac: '52:54:00:00:00:01', dst: '10.77.0.13' }, { mac: '52:54:00:00:00:02', dst: '10.77.0.12' }, { mac: '52:54:00:00:00:03' },
    ] as typeof fdb;
    calls.length = 0;
    expect(await syncFloodEntries(runner, 'pvvx10000', '10.77.0.11', ['10.77.0.11', '10.77.0.12'])).toEqual({ add: [], del: ['10.77.0.13'], forgot: ['52:54:00:00:00:01'] });
    expect(calls).toEqual([
      'bridge fdb del 00:00:00:00:00:00 dev pvvx10000 dst 10.77.0.13',
      'bridge fdb del 52:54:00:00:00:01 dev pvvx10000 dst 10.77.0.13',
    ]);
  });
});
