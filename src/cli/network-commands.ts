/** `polyvisor network create|list|show|leases|rm`: virtual networks (issue 18; docs/networks-objects.md). */
import type { Command } from 'commander';
import { NetworkClient, type NetworkCreateRequest, type NetworkDetailView, type NetworkModeName } from '../client/index.js';
import { fail } from '../shared/index.js';
import { endpointFrom, tokenFrom, type GlobalOptions } from './context.js';
import { table } from './format.js';

const MODES = ['nat', 'isolated', 'bridge'];

interface CreateFlags { mode: string; subnet?: string; dhcpRange?: string; dnsDomain?: string; uplink?: string; vlan?: string }

/** The create request the flags ask for (the daemon validates the values). */
export function networkRequest(name: string, o: CreateFlags): NetworkCreateRequest {
  if (!MODES.includes(o.mode)) fail('INVALID_ARGUMENT', `--mode ${JSON.stringify(o.mode)} is not one of ${MODES.join(', ')}`);
  const r: NetworkCreateRequest = { name, mode: o.mode as NetworkModeName };
  if (o.subnet !== undefined) r.subnet = o.subnet;
  if (o.dhcpRange !== undefined) {
    const m = /^([^-\s]+)-([^-\s]+)$/.exec(o.dhcpRange);
    if (!m) fail('INVALID_ARGUMENT', `--dhcp-range ${JSON.stringify(o.dhcpRange)} must look like 10.123.0.128-10.123.0.254`);
    r.dhcpRange = { start: m[1]!, end: m[2]! };
  }
  if (o.dnsDomain !== undefined) r.dnsDomain = o.dnsDomain;
  if (o.uplink !== undefined) r.uplink = o.uplink;
  if (o.vlan !== undefined) {
    if (!/^\d+$/.test(o.vlan)) fail('INVALID_ARGUMENT', `--vlan ${JSON.stringify(o.vlan)} must be a number 1-4094`);
    r.vlan = Number(o.vlan);
  }
  return r;
}

function details(n: NetworkDetailView): string {
  const rows: Array<[string, string]> = [
    ['Name', n.name], ['Mode', n.mode], ['Bridge', n.bridge], ['Subnet', n.subnet ?? '-'], ['Gateway', n.gateway ?? '-'],
    ['DHCP range', n.dhcpRange ? `${n.dhcpRange.start}-${n.dhcpRange.end}` : '-'], ['DNS domain', n.dnsDomain ?? '-'],
    ['Uplink', n.uplink ?? '-'], ['VLAN', n.vlan === null ? '-' : String(n.vlan)], ['Created', n.createdAt],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  let s = rows.map(([k, v]) => `${k.padEnd(w)}  ${v}\n`).join('');
  if (n.nics.length) s += '\nNICs\n' + table(['VM', 'NIC', 'MAC', 'ADDRESS', 'TAP'], n.nics.map((x) => [x.vm, x.nic, x.mac, x.ip ?? '-', x.tap]));
  if (n.leases.length) s += '\nLeases\n' + table(['MAC', 'ADDRESS', 'HOSTNAME', 'EXPIRES'], n.leases.map((l) => [l.mac, l.ip, l.hostname ?? '-', l.expiresAt ?? 'never']));
  return s;
}

export function registerNetworkCommands(program: Command, out: (s: string) => void): void {
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const client = (): NetworkClient => {
    const token = tokenFrom(g());
    return new NetworkClient({ endpoint: endpointFrom(g()), ...(token ? { token } : {}) });
  };
  const json = (o: { json?: boolean }) => o.json || g().json;
  const net = program.command('network').description('virtual networks: NAT, isolated and bridged, with DHCP and DNS (VMs join them with vm create --network NAME)');

  net.command('create <name>')
    .description('create a network and build it on the host: bridge, dnsmasq, nftables (admin)')
    .requiredOption('--mode <mode>', 'nat (guests reach out through the host), isolated (guests and host only) or bridge (guests on the uplink\'s LAN)')
    .option('--subnet <cidr>', 'IPv4 subnet (nat, isolated); default: a free private /24 that collides with no host route')
    .option('--dhcp-range <start-end>', 'the dynamic DHCP pool; default: the upper half of the subnet')
    .option('--dns-domain <domain>', 'guests resolve as VM.DOMAIN; default: the network\'s name')
    .option('--uplink <iface>', 'bridge: the host interface to enslave; nat: the interface traffic leaves by')
    .option('--vlan <id>', 'the guests\' ports are untagged members of this VLAN (1-4094)')
    .option('--json', 'print JSON')
    .action(async (name: string, o: CreateFlags & { json?: boolean }) => {
      const n = await client().create(networkRequest(name, o));
      out(json(o) ? JSON.stringify(n, null, 2) + '\n' : `network ${n.name}: ${n.mode} on ${n.bridge}${n.subnet ? ` ${n.subnet}` : ''}\n`);
    });

  net.command('list')
    .alias('ls')
    .description('the virtual networks of the host')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const list = await client().list();
      out(json(o) ? JSON.stringify(list, null, 2) + '\n' : table(['NAME', 'MODE', 'BRIDGE', 'SUBNET', 'VLAN', 'NICS'], list.map((n) => [n.name, n.mode, n.bridge, n.subnet ?? '-', n.vlan === null ? '-' : String(n.vlan), String(n.nics.length)])));
    });

  net.command('show <name>')
    .description('a network, its VM NICs and its DHCP leases')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const n = await client().show(name);
      out(json(o) ? JSON.stringify(n, null, 2) + '\n' : details(n));
    });

  net.command('leases <name>')
    .description('the DHCP leases dnsmasq handed out on a network')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const list = await client().leases(name);
      out(json(o) ? JSON.stringify(list, null, 2) + '\n' : table(['MAC', 'ADDRESS', 'HOSTNAME', 'EXPIRES'], list.map((l) => [l.mac, l.ip, l.hostname ?? '-', l.expiresAt ?? 'never'])));
    });

  net.command('rm <name>')
    .alias('remove')
    .description('remove a network and everything of it on the host; refused while VMs use it (admin)')
    .action(async (name: string) => {
      await client().remove(name);
      out(`network ${name}: removed\n`);
    });
}
