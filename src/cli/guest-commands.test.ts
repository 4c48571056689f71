import { describe, expect, it } from 'vitest';
import type { GuestInfoView } from '../spec/index.js';
import { guestText } from './guest-commands.js';

const base: GuestInfoView = {
  agent: { responding: true, version: '7.2.0', latencyMs: 3, error: null },
  os: { prettyName: 'Debian GNU/Linux 12 (bookworm)', id: 'debian', version: '12', kernelRelease: '6.1.0-28-cloud-amd64', machine: 'x86_64' },
  hostname: 'web1',
  interfaces: [{ name: 'eth0', mac: '52:54:00:12:34:56', addresses: [{ family: 'ipv4', address: '10.0.2.15', prefix: 24 }] }],
  filesystems: [{ mountpoint: '/', type: 'ext4', devices: ['vda1'], totalBytes: 2 * 1024 ** 3, usedBytes: 512 * 1024 ** 2 }],
  clockSkewMs: -12,
  missing: [],
  readAt: '2026-12-04T00:00:00.000Z',
};

describe('vm guest', () => {
  it('prints the agent, OS, hostname, clock, then interfaces and filesystems', () => {
    const t = guestText(base);
    expect(t).toContain('agent:     answering (version 7.2.0, 3 ms)');
    expect(t).toContain('os:        Debian GNU/Linux 12 (bookworm) (kernel 6.1.0-28-cloud-amd64, x86_64)');
    expect(t).toContain('hostname:  web1');
    expect(t).toContain('clock:     -12 ms from the host');
    expect(t).toMatch(/eth0\s+52:54:00:12:34:56\s+10\.0\.2\.15\/24/);
    expect(t).toMatch(/\/\s+ext4\s+vda1\s+512(\.0)? ?Mi?B\s+2(\.0)? ?Gi?B/);
  });

  it('says why an agent does not answer, and which parts it did not give', () => {
    const t = guestText({ ...base, agent: { responding: false, version: null, latencyMs: null, error: 'timed out' }, os: null, hostname: null, interfaces: [], filesystems: [], clockSkewMs: null, missing: [{ part: 'os', error: 'not supported' }] });
    expect(t).toContain('agent:     not answering: timed out');
    expect(t).toContain('hostname:  -');
    expect(t).toContain('not given by the agent: os');
  });
});
