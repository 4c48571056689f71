import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NetworkConfig } from '../spec/index.js';
import { dnsListeners, overlappingRoutes, virtualNetworkChecks, vlanFinding } from './virtual-network-checks.js';

const UDP = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
  '  10: 017B7B0A:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 91234 2 0000000000000000 0',
  '  11: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 91235 2 0000000000000000 0',
  '  12: 0100007F:0043 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 91236 2 0000000000000000 0',
].join('\n');

const net = (p: Partial<NetworkConfig>): NetworkConfig => ({
  name: 'n1', mode: 'nat', bridge: 'pvbr-n1', subnet: '10.123.123.0/24', gateway: '10.123.123.1', dhcpRange: null, dnsDomain: null, uplink: null, vlan: null, ...p,
});

describe('doctor: virtual networks', () => {
  it('reads port-53 sockets from /proc/net with their address (host byte order) and inode', () => {
    expect(dnsListeners(UDP)).toEqual([{ address: '10.123.123.1', inode: '91234' }, { address: '0.0.0.0', inode: '91235' }]);
  });

  it('finds a network whose subnet overlaps a host route on another link, not its own bridge', () => {
    const routes = JSON.stringify([
      { dst: 'default', dev: 'eth0' },
      { dst: '10.123.123.0/24', dev: 'pvbr-n1' },
      { dst: '10.123.0.0/16', dev: 'wg0' },
      { dst: '192.168.1.0/24', dev: 'eth0' },
    ]);
    expect(overlappingRoutes([net({}), net({ name: 'n2', bridge: 'pvbr-n2', subnet: '10.50.0.0/24' })], routes)).toEqual([{ network: 'n1', route: '10.123.0.0/16', dev: 'wg0' }]);
  });

  it('warns when a NAT network exists and forwarding is off, with the sysctl that fixes it; skips it without NAT networks', async () => {
    const proc = mkdtempSync(path.join(tmpdir(), 'pv-proc-'));
    mkdirSync(path.join(proc, 'sys', 'net', 'ipv4'), { recursive: true });
    writeFileSync(path.join(proc, 'sys', 'net', 'ipv4', 'ip_forward'), '0\n');
    const f = await virtualNetworkChecks({ networks: async () => [net({})], procDir: proc });
    const fwd = f.find((x) => x.check === 'ip-forward');
    expect(fwd).toMatchObject({ severity: 'warning', fix: { argv: ['sysctl', '-w', 'net.ipv4.ip_forward=1'] } });
    const isolated = await virtualNetworkChecks({ networks: async () => [net({ mode: 'isolated' })], procDir: proc });
    expect(isolated.find((x) => x.check === 'ip-forward')).toBeUndefined();
  });

  it('without networks, missing tools or kernel parts are information, not critical', async () => {
    const f = await virtualNetworkChecks({ networks: async () => [], sysDir: '/nonexistent', devDir: '/nonexistent' });
    const kernel = f.filter((x) => x.check === 'network-kernel');
    expect(kernel.map((x) => x.severity)).toEqual(['info', 'info']);
    expect(kernel.map((x) => x.fix?.command)).toEqual(['modprobe bridge', 'modprobe tun']);
    const f2 = await virtualNetworkChecks({ networks: async () => [net({})], sysDir: '/nonexistent', devDir: '/nonexistent', procDir: '/nonexistent' });
    expect(f2.filter((x) => x.check === 'network-kernel').map((x) => x.severity)).toEqual(['critical', 'critical']);
  });

  it('reports the kernel\'s VLAN support: information without VLAN networks, ok with it', async () => {
    const none = { bridgeVlanFiltering: false, dot1q: false, detail: 'bridge vlan_filtering: RTNETLINK answers: Operation not supported' };
    const f = await virtualNetworkChecks({ networks: async () => [], vlanSupport: async () => none, sysDir: '/nonexistent', devDir: '/nonexistent' });
    const v = f.find((x) => x.check === 'network-vlan')!;
    expect(v).toMatchObject({ severity: 'info', subject: 'kernel' });
    expect(v.message).toMatch(/no bridge VLAN filtering \(CONFIG_BRIDGE_VLAN_FILTERING\).*802\.1Q no.*Operation not supported/);
    expect(v.fix?.command).toBe('modprobe 8021q');
    expect(vlanFinding(none, ['lan10'])).toMatchObject({ severity: 'critical', subject: 'lan10' });
    expect(vlanFinding({ bridgeVlanFiltering: true, dot1q: true, detail: '' }, [])).toMatchObject({ severity: 'ok', fix: null });
    const unknown = await virtualNetworkChecks({ networks: async () => [], vlanSupport: async () => null, sysDir: '/nonexistent', devDir: '/nonexistent' });
    expect(unknown.some((x) => x.check === 'network-vlan')).toBe(false);
  });
});
