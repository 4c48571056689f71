import { describe, expect, it } from 'vitest';
import { addressPlan, allocateAddress, chooseSubnet, defaultsFor } from './defaults.js';
import { parseHostRoutes } from './host-routes.js';
import { bridgeNameFor, tapNameFor } from './names.js';
import { validateNetworkDef } from './validate.js';

describe('chooseSubnet', () => {
  it('picks the first 10.123.X.0/24 that collides with no network or route', () => {
    expect(chooseSubnet([], [])).toBe('10.123.0.0/24');
    const routes = parseHostRoutes('[{"dst":"default","dev":"eth0"},{"dst":"10.123.0.0/23","dev":"eth1"},{"dst":"10.123.3.7","dev":"wg0"}]');
    expect(chooseSubnet(['10.123.2.0/24'], routes)).toBe('10.123.4.0/24');
  });
  it('moves on to 172.30 and 192.168 ranges, and says so when nothing is free', () => {
    const r = parseHostRoutes('[{"dst":"10.0.0.0/8","dev":"eth1"}]');
    expect(chooseSubnet([], r)).toBe('172.30.0.0/24');
    expect(chooseSubnet(['172.16.0.0/12'], r)).toBe('192.168.123.0/24');
    expect(() => chooseSubnet(['172.16.0.0/12', '192.168.0.0/16'], r)).toThrow(expect.objectContaining({ code: 'NO_FREE_SUBNET' }));
  });
});

describe('defaultsFor', () => {
  it('fills gateway, DHCP pool (upper half), bridge and domain', () => {
    expect(defaultsFor('default', 'nat', {}, { taken: ['10.123.0.0/24'] })).toEqual({
      name: 'default', mode: 'nat', bridge: 'pvbr-default', subnet: '10.123.1.0/24', gateway: '10.123.1.1',
      dhcpRange: { start: '10.123.1.128', end: '10.123.1.254' }, dnsDomain: 'default', uplink: null, vlan: null, reservations: [],
    });
    expect(addressPlan('10.50.0.0/16')).toEqual({ gateway: '10.50.0.1', dhcpRange: { start: '10.50.128.0', end: '10.50.255.254' } });
    expect(defaultsFor('lan', 'bridge', { uplink: 'eth1' })).toMatchObject({ subnet: null, gateway: null, dhcpRange: null, dnsDomain: null });
  });
  it('keeps what was given and the result validates', () => {
    const d = defaultsFor('lab', 'isolated', { subnet: '192.168.77.0/24', dnsDomain: 'lab.test', vlan: 10 });
    expect(d).toMatchObject({ subnet: '192.168.77.0/24', gateway: '192.168.77.1', dnsDomain: 'lab.test', vlan: 10 });
    expect(() => validateNetworkDef(d, [], [])).not.toThrow();
  });
  it('builds interface names within 15 characters', () => {
    expect(bridgeNameFor('lab')).toBe('pvbr-lab');
    expect(bridgeNameFor('abcdefghij')).toBe('pvbr-abcdefghij');
    const long = bridgeNameFor('abcdefghijkl');
    expect(long).toMatch(/^pvbr-abcdef[0-9a-f]{4}$/);
    expect(long).not.toBe(bridgeNameFor('abcdefghijkm'));
    expect(tapNameFor('web', 'net0')).toMatch(/^pvt-[0-9a-f]{11}$/);
    expect(tapNameFor('web', 'net0')).toBe(tapNameFor('web', 'net0'));
    expect(tapNameFor('web', 'net0')).not.toBe(tapNameFor('web', 'net1'));
  });
});

describe('allocateAddress', () => {
  it('gives the lowest free address below the DHCP pool, skipping the gateway and reservations', () => {
    const d = defaultsFor('lab', 'nat', { subnet: '10.123.5.0/24', reservations: [{ mac: '52:54:00:00:00:01', ip: '10.123.5.2', hostname: 'a' }] });
    expect(allocateAddress(d, [])).toBe('10.123.5.3');
    expect(allocateAddress(d, ['10.123.5.3'])).toBe('10.123.5.4');
    const tiny = defaultsFor('t', 'nat', { subnet: '10.9.9.0/29' }); // .1 gateway, .4-.6 pool, .2-.3 reservable
    expect(allocateAddress(tiny, ['10.9.9.2'])).toBe('10.9.9.3');
    expect(() => allocateAddress(tiny, ['10.9.9.2', '10.9.9.3'])).toThrow(expect.objectContaining({ code: 'NETWORK_INVALID' }));
  });
});

describe('parseHostRoutes', () => {
  it('reads ip -j route, skipping default, local and broadcast entries', () => {
    const r = parseHostRoutes(JSON.stringify([
      { dst: 'default', gateway: '10.0.2.2', dev: 'eth0' },
      { dst: '10.0.2.0/24', dev: 'eth0' },
      { type: 'local', dst: '10.0.2.15', dev: 'eth0', table: 'local' },
      { dst: '172.17.0.1', dev: 'docker0' },
    ]));
    expect(r.map((x) => [x.dst, x.dev, x.cidr.prefix])).toEqual([['10.0.2.0/24', 'eth0', 24], ['172.17.0.1', 'docker0', 32]]);
    expect(parseHostRoutes('')).toEqual([]);
  });
});
