import { describe, expect, it } from 'vitest';
import { stableMac } from '../drivers/index.js';
import { validateSpec } from '../spec/index.js';
import { nicViews } from './nic-views.js';

const rec = { id: 'vm-1', spec: validateSpec({ name: 'web', boot: { kernel: '/k' }, networks: [{ name: 'u' }, { network: 'lab', linkUp: false }] }) };
const mac0 = stableMac('vm-1', 'net0');
const alloc = { vm: 'web', nic: 'net0', network: 'lab', mac: mac0, ip: '10.0.0.7', tap: 'pvt-x' };

describe('a VM\'s NICs with their addresses', () => {
  it('merges the lease and the agent by MAC, each address once per source, link-local IPv6 left out', () => {
    const [u, n] = nicViews(rec, [alloc], {
      leases: new Map([['lab', [{ mac: mac0.toUpperCase(), ip: '10.0.0.7', hostname: 'web', expiresAt: null }, { mac: '52:54:00:99:99:99', ip: '10.0.0.9', hostname: null, expiresAt: null }]]]),
      agent: [{ name: 'eth1', mac: mac0, addresses: [
        { family: 'ipv4', address: '10.0.0.7', prefix: 24 }, { family: 'ipv4', address: '10.0.0.7', prefix: 24 },
        { family: 'ipv6', address: 'fe80::1', prefix: 64 }, { family: 'ipv6', address: 'fd00::7', prefix: 64 },
      ] }],
      attached: true,
    });
    expect(u).toMatchObject({ name: 'u', type: 'user', network: null, linkUp: true, tap: null, reservedIp: null, addresses: [] });
    expect(n).toEqual({
      name: 'net0', type: 'network', network: 'lab', mac: mac0, model: 'virtio', linkUp: false, tap: 'pvt-x', reservedIp: '10.0.0.7',
      addresses: [{ address: '10.0.0.7', source: 'lease' }, { address: '10.0.0.7', source: 'agent' }, { address: 'fd00::7', source: 'agent' }],
    });
  });

  it('shows no tap while the VM does not run, and the reservation without any sighting', () => {
    const [, n] = nicViews(rec, [alloc], { leases: new Map(), agent: [], attached: false });
    expect(n).toMatchObject({ tap: null, reservedIp: '10.0.0.7', addresses: [] });
  });
});
