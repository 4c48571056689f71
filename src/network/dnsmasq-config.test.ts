import { describe, expect, it } from 'vitest';
import { defaultsFor } from './defaults.js';
import { dnsmasqArgv, dnsmasqConfig, dnsmasqPaths } from './dnsmasq-config.js';
import { parseLeases } from './leases.js';

const paths = dnsmasqPaths('/var/lib/polyvisor', 'lab');
const res = [
  { mac: '52:54:00:00:00:01', ip: '10.123.5.2', hostname: 'web' },
  { mac: '52:54:00:00:00:02', ip: '10.123.5.3', hostname: null },
];
const lab = defaultsFor('lab', 'nat', { subnet: '10.123.5.0/24', reservations: res });

describe('dnsmasq config', () => {
  it('keeps every file under STATE/networks/NAME and passes only the config and pid file on argv', () => {
    expect(paths).toEqual({
      dir: '/var/lib/polyvisor/networks/lab', conf: '/var/lib/polyvisor/networks/lab/dnsmasq.conf', pid: '/var/lib/polyvisor/networks/lab/dnsmasq.pid',
      leases: '/var/lib/polyvisor/networks/lab/dnsmasq.leases',
    });
    expect(dnsmasqArgv(paths)).toEqual(['--conf-file=/var/lib/polyvisor/networks/lab/dnsmasq.conf', '--pid-file=/var/lib/polyvisor/networks/lab/dnsmasq.pid']);
  });

  it('binds only to the bridge, serves the pool and the domain, routes through the gateway (nat)', () => {
    const lines = dnsmasqConfig(lab, paths).split('\n');
    expect(lines).toEqual(expect.arrayContaining([
      'bind-interfaces', 'interface=pvbr-lab', 'except-interface=lo', 'listen-address=10.123.5.1',
      'domain=lab', 'local=/lab/', 'expand-hosts', 'dhcp-range=10.123.5.128,10.123.5.254,255.255.255.0,1h', 'dhcp-authoritative',
      'dhcp-leasefile=/var/lib/polyvisor/networks/lab/dnsmasq.leases', 'dhcp-option=option:router,10.123.5.1',
    ]));
    expect(lines).not.toContain('no-resolv');
  });

  it('gives an isolated network no upstream DNS and no router; a network without pool serves reservations only', () => {
    const iso = defaultsFor('iso', 'isolated', { subnet: '10.50.0.0/16', dhcpRange: null, dnsDomain: 'iso.test' });
    const lines = dnsmasqConfig(iso, dnsmasqPaths('/s', 'iso')).split('\n');
    expect(lines).toEqual(expect.arrayContaining(['no-resolv', 'dhcp-option=3', 'dhcp-range=10.50.0.0,static,255.255.0.0,1h', 'domain=iso.test']));
    expect(lines.some((l) => l.startsWith('dhcp-option=option:router'))).toBe(false);
  });

  it('writes reservations with host names so VM names resolve', () => {
    const lines = dnsmasqConfig(lab, paths).split('\n');
    expect(lines.filter((l) => /^(dhcp-host|host-record)=/.test(l))).toEqual([
      'dhcp-host=52:54:00:00:00:01,10.123.5.2,web', 'host-record=web.lab,web,10.123.5.2', 'dhcp-host=52:54:00:00:00:02,10.123.5.3',
    ]);
  });
});

describe('parseLeases', () => {
  it('reads dnsmasq lease lines, infinite leases and missing host names', () => {
    const text = [
      '1733356800 52:54:00:00:00:01 10.123.5.2 web 01:52:54:00:00:00:01',
      '0 52:54:00:AA:00:02 10.123.5.130 * *',
      'duid 00:01:00:01:2c:1f',
      '1733356800 52:54:00:00:00:03 fd00::3 v6 *',
      'garbage',
      '',
    ].join('\n');
    expect(parseLeases(text)).toEqual([
      { mac: '52:54:00:00:00:01', ip: '10.123.5.2', hostname: 'web', expiresAt: '2024-12-05T00:00:00.000Z' },
      { mac: '52:54:00:aa:00:02', ip: '10.123.5.130', hostname: null, expiresAt: null },
    ]);
  });
});
