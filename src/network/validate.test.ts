import { describe, expect, it } from 'vitest';
import { PolyvisorError } from '../shared/index.js';
import { defaultsFor } from './defaults.js';
import { parseHostRoutes } from './host-routes.js';
import { validateNetworkDef, validateNicAttachment } from './validate.js';
import type { NetworkDef, NicAttachment } from './types.js';

function errorOf(fn: () => void): PolyvisorError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PolyvisorError) return err;
    throw err;
  }
  throw new Error('expected a PolyvisorError');
}
const field = (fn: () => void): unknown => (errorOf(fn).details as { field: string }).field;

const net = (over: Partial<NetworkDef> = {}): NetworkDef => ({ ...defaultsFor('lab', 'nat', { subnet: '10.123.5.0/24' }), ...over });
const routes = parseHostRoutes(JSON.stringify([
  { dst: 'default', gateway: '192.168.1.1', dev: 'eth0' },
  { dst: '192.168.1.0/24', dev: 'eth0', prefsrc: '192.168.1.20', scope: 'link' },
  { dst: '10.123.9.0/24', dev: 'pvbr-other' },
]));

describe('validateNetworkDef', () => {
  it('accepts the defaults of a nat, isolated and bridge network', () => {
    expect(() => validateNetworkDef(net(), [], routes)).not.toThrow();
    expect(() => validateNetworkDef(defaultsFor('iso', 'isolated', { subnet: '10.50.0.0/16' }), [], routes)).not.toThrow();
    expect(() => validateNetworkDef(defaultsFor('lan', 'bridge', { uplink: 'eth1' }), [], routes)).not.toThrow();
  });

  it('refuses bad names, including ones whose interface names pass Linux\'s 15 characters', () => {
    expect(field(() => validateNetworkDef(net({ name: 'Lab' }), [], []))).toBe('name');
    expect(field(() => validateNetworkDef(net({ name: 'a-very-long-name' }), [], []))).toBe('name');
    expect(errorOf(() => validateNetworkDef(net({ bridge: 'pvbr-abcdefghijk' }), [], [])).message).toMatch(/16 characters; Linux allows at most 15/);
    expect(field(() => validateNetworkDef(net({ bridge: 'br;rm -rf' }), [], []))).toBe('bridge');
    expect(field(() => validateNetworkDef(net({ uplink: 'eth0-with-a-long-name' }), [], []))).toBe('uplink');
  });

  it('refuses a bad CIDR, host bits, and a prefix too long for a pool', () => {
    expect(errorOf(() => validateNetworkDef(net({ subnet: '10.300.0.0/24' }), [], [])).code).toBe('NETWORK_INVALID');
    expect(errorOf(() => validateNetworkDef(net({ subnet: '10.0.0.5/24' }), [], [])).message).toMatch(/did you mean 10\.0\.0\.0\/24/);
    expect(field(() => validateNetworkDef(net({ subnet: '10.0.0.0/30' }), [], []))).toBe('subnet');
    expect(field(() => validateNetworkDef(net({ subnet: 'banana' }), [], []))).toBe('subnet');
  });

  it('refuses a gateway or DHCP range outside the subnet, or a range holding the gateway', () => {
    expect(field(() => validateNetworkDef(net({ gateway: '10.9.9.1' }), [], []))).toBe('gateway');
    expect(field(() => validateNetworkDef(net({ dhcpRange: { start: '10.123.5.100', end: '10.123.6.10' } }), [], []))).toBe('dhcpRange.end');
    expect(field(() => validateNetworkDef(net({ dhcpRange: { start: '10.123.5.1', end: '10.123.5.50' } }), [], []))).toBe('dhcpRange');
    expect(field(() => validateNetworkDef(net({ dhcpRange: { start: '10.123.5.90', end: '10.123.5.50' } }), [], []))).toBe('dhcpRange');
    expect(field(() => validateNetworkDef(net({ dhcpRange: { start: '10.123.5.200', end: '10.123.5.255' } }), [], []))).toBe('dhcpRange.end');
  });

  it('refuses VLANs outside 1-4094', () => {
    for (const vlan of [0, 4095, 1.5]) expect(field(() => validateNetworkDef(net({ vlan }), [], []))).toBe('vlan');
    expect(() => validateNetworkDef(net({ vlan: 4094 }), [], [])).not.toThrow();
  });

  it('refuses reservations outside the subnet, on the gateway, or duplicated', () => {
    const r = { mac: '52:54:00:00:00:01', ip: '10.123.5.10', hostname: 'web' };
    expect(field(() => validateNetworkDef(net({ reservations: [{ ...r, ip: '10.1.1.1' }] }), [], []))).toBe('reservations.0.ip');
    expect(field(() => validateNetworkDef(net({ reservations: [{ ...r, ip: '10.123.5.1' }] }), [], []))).toBe('reservations.0.ip');
    expect(field(() => validateNetworkDef(net({ reservations: [r, { ...r, ip: '10.123.5.11', hostname: 'db' }] }), [], []))).toBe('reservations.1.mac');
    expect(field(() => validateNetworkDef(net({ reservations: [r, { ...r, mac: '52:54:00:00:00:02', hostname: 'db' }] }), [], []))).toBe('reservations.1.ip');
    expect(field(() => validateNetworkDef(net({ reservations: [r, { mac: '52:54:00:00:00:02', ip: '10.123.5.11', hostname: 'WEB' }] }), [], []))).toBe('reservations.1.hostname');
    expect(field(() => validateNetworkDef(net({ reservations: [{ ...r, mac: '52:54:00:00:00:0G' }] }), [], []))).toBe('reservations.0.mac');
  });

  it('refuses a subnet overlapping another network or a host route, naming it', () => {
    const other = defaultsFor('other', 'nat', { subnet: '10.123.0.0/16' });
    const e1 = errorOf(() => validateNetworkDef(net(), [other], []));
    expect(e1.code).toBe('SUBNET_OVERLAP');
    expect(e1.message).toMatch(/network other \(10\.123\.0\.0\/16\)/);
    const e2 = errorOf(() => validateNetworkDef(defaultsFor('lab', 'nat', { subnet: '192.168.0.0/16' }), [], routes));
    expect(e2.code).toBe('SUBNET_OVERLAP');
    expect(e2.message).toMatch(/host route 192\.168\.1\.0\/24 on eth0/);
    expect(e2.hint).not.toMatch(/polyvisor network/);
    // The network's own bridge route is not a collision (re-validating a network that exists).
    expect(() => validateNetworkDef(defaultsFor('other', 'nat', { subnet: '10.123.9.0/24' }), [], routes)).not.toThrow();
    // Its own earlier record is not "another network".
    expect(() => validateNetworkDef(net(), [net()], [])).not.toThrow();
    expect(field(() => validateNetworkDef(net(), [{ ...other, subnet: '10.1.0.0/24', bridge: net().bridge }], []))).toBe('bridge');
  });

  it('bridge mode needs an uplink and has no addressing of its own', () => {
    expect(field(() => validateNetworkDef(defaultsFor('lan', 'bridge'), [], []))).toBe('uplink');
    // In a cluster the bridge's VXLAN port joins the members: no uplink needed, addressing still refused.
    expect(() => validateNetworkDef(defaultsFor('lan', 'bridge'), [], [], { overlay: true })).not.toThrow();
    expect(field(() => validateNetworkDef({ ...defaultsFor('lan', 'bridge'), subnet: '10.0.0.0/24' }, [], [], { overlay: true }))).toBe('subnet');
    expect(field(() => validateNetworkDef({ ...defaultsFor('lan', 'bridge', { uplink: 'eth1' }), subnet: '10.0.0.0/24' }, [], []))).toBe('subnet');
  });
});

describe('validateNicAttachment', () => {
  const nic = (over: Partial<NicAttachment> = {}): NicAttachment => ({
    vm: 'web', nic: 'net0', network: 'lab', mac: '52:54:00:00:00:01', tap: 'pvt-0123456789a', ip: '10.123.5.10', antiSpoof: true,
    firewall: null, portForwards: [], bandwidth: null, linkUp: true, ...over,
  });
  it('accepts a plain NIC and refuses bad taps, MACs and addresses', () => {
    expect(() => validateNicAttachment(nic(), net())).not.toThrow();
    expect(field(() => validateNicAttachment(nic({ tap: 'pvt-0123456789ab' }), net()))).toBe('tap');
    expect(field(() => validateNicAttachment(nic({ mac: '52:54:00:00:00' }), net()))).toBe('mac');
    expect(field(() => validateNicAttachment(nic({ ip: '10.123.6.10' }), net()))).toBe('ip');
    expect(field(() => validateNicAttachment(nic({ ip: '10.123.5.1' }), net()))).toBe('ip');
  });
  it('refuses port 70000, reversed ranges, ports without tcp/udp and bad peers', () => {
    const fw = (rule: object) => ({ defaultIn: 'accept' as const, defaultOut: 'accept' as const, rules: [{ direction: 'in', action: 'drop', protocol: 'tcp', port: 22, peer: null, ...rule }] as never });
    const e = errorOf(() => validateNicAttachment(nic({ portForwards: [{ protocol: 'tcp', hostPort: 70000, guestPort: 80 }] }), net()));
    expect(e.message).toMatch(/port 70000 is outside 1-65535/);
    expect((e.details as { field: string }).field).toBe('portForwards.0.hostPort');
    expect(field(() => validateNicAttachment(nic({ firewall: fw({ port: 70000 }) }), net()))).toBe('firewall.rules.0.port');
    expect(field(() => validateNicAttachment(nic({ firewall: fw({ port: { from: 90, to: 80 } }) }), net()))).toBe('firewall.rules.0.port');
    expect(field(() => validateNicAttachment(nic({ firewall: fw({ protocol: 'icmp' }) }), net()))).toBe('firewall.rules.0.port');
    expect(field(() => validateNicAttachment(nic({ firewall: fw({ peer: '10.0.0.0/33' }) }), net()))).toBe('firewall.rules.0.peer');
    expect(() => validateNicAttachment(nic({ firewall: fw({ peer: '10.0.0.0/8' }) }), net())).not.toThrow();
  });
  it('refuses duplicate forwards and forwards on an isolated network', () => {
    const f = { protocol: 'tcp' as const, hostPort: 8080, guestPort: 80 };
    expect(field(() => validateNicAttachment(nic({ portForwards: [f, f] }), net()))).toBe('portForwards.1.hostPort');
    expect(field(() => validateNicAttachment(nic({ portForwards: [f] }), net({ mode: 'isolated' })))).toBe('portForwards');
  });
});
