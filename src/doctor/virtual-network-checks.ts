/**
 * What virtual networks need from the host (issue 18): the tools (ip, nft,
 * dnsmasq), the bridge and tun kernel parts, IP forwarding when a NAT
 * network exists, no other DNS server on a network's gateway address, and no
 * network whose subnet overlaps a route the host has through another link.
 * Reads /proc, /sys and `ip -j route`; changes nothing.
 */
import { access, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { cidrsOverlap, parseCidr, parseHostRoutes, type VlanSupport } from '../network/index.js';
import { run } from '../shared/index.js';
import type { NetworkConfig } from '../spec/index.js';
import { fix, type Finding } from './types.js';

export interface VirtualNetworkDeps {
  /** The stored networks (none: only the tools and kernel parts are checked, as information). */
  networks(): Promise<NetworkConfig[]>;
  /** The kernel's VLAN support as the plumbing probed it (null or absent: not known here). */
  vlanSupport?(): Promise<VlanSupport | null>;
  procDir?: string;
  sysDir?: string;
  devDir?: string;
}

const INSTALL = fix('apt-get', 'install', '--no-install-recommends', 'iproute2', 'nftables', 'dnsmasq-base');

/** Sockets bound to port 53 in /proc/net/{udp,tcp} text: address ("0100007F:0035" → 127.0.0.1) and inode. */
export function dnsListeners(procNet: string): Array<{ address: string; inode: string }> {
  const out: Array<{ address: string; inode: string }> = [];
  for (const line of procNet.split('\n')) {
    const cols = line.trim().split(/\s+/);
    const [hex, port] = (cols[1] ?? '').split(':');
    if (port !== '0035' || !hex || hex.length !== 8 || !cols[9]) continue;
    // The kernel prints the address in host (little-endian) byte order.
    out.push({ address: [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.'), inode: cols[9] });
  }
  return out;
}

/** Networks whose subnet overlaps a host route that is not on the network's own bridge. */
export function overlappingRoutes(nets: readonly NetworkConfig[], routesJson: string): Array<{ network: string; route: string; dev: string | null }> {
  const routes = parseHostRoutes(routesJson);
  const out: Array<{ network: string; route: string; dev: string | null }> = [];
  for (const n of nets) {
    const c = n.subnet ? parseCidr(n.subnet, false) : null;
    if (!c) continue;
    for (const r of routes) if (r.dev !== n.bridge && cidrsOverlap(c, r.cidr)) out.push({ network: n.name, route: r.dst, dev: r.dev });
  }
  return out;
}

async function tool(bin: string, args: string[]): Promise<string | null> {
  try {
    const r = await run(bin, args, { timeoutMs: 5_000 });
    return r.code === 0 ? (r.stdout || r.stderr).split('\n')[0]!.trim() : null;
  } catch {
    return null;
  }
}

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

export async function virtualNetworkChecks(d: VirtualNetworkDeps): Promise<Finding[]> {
  const proc = d.procDir ?? '/proc';
  const nets = await d.networks().catch(() => [] as NetworkConfig[]);
  // Without networks a missing part is information (nothing uses it yet); with them it is critical.
  const missing = nets.length ? 'critical' : 'info';
  const out: Finding[] = [];
  const tools: Array<[string, string[]]> = [['ip', ['-V']], ['nft', ['--version']], ['dnsmasq', ['--version']]];
  const versions = await Promise.all(tools.map(([b, a]) => tool(b, a)));
  const absent = tools.filter((_, i) => versions[i] === null).map(([b]) => b);
  out.push(absent.length
    ? { check: 'network-tools', severity: missing, subject: absent.join(', '), message: `${absent.join(', ')} not found: virtual networks cannot be created on this host`, fix: INSTALL }
    : { check: 'network-tools', severity: 'ok', subject: null, message: versions.join('; '), fix: null });
  const bridge = await exists(path.join(d.sysDir ?? '/sys', 'module', 'bridge'));
  const tun = await exists(path.join(d.devDir ?? '/dev', 'net', 'tun'));
  if (!bridge) out.push({ check: 'network-kernel', severity: missing, subject: 'bridge', message: 'the bridge module is not loaded (it loads when the first bridge is made, if the kernel has it)', fix: fix('modprobe', 'bridge') });
  if (!tun) out.push({ check: 'network-kernel', severity: missing, subject: '/dev/net/tun', message: '/dev/net/tun is missing: QEMU cannot open tap devices', fix: fix('modprobe', 'tun') });
  if (bridge && tun) out.push({ check: 'network-kernel', severity: 'ok', subject: null, message: 'bridge module loaded and /dev/net/tun present', fix: null });
  const vlan = await d.vlanSupport?.().catch(() => null);
  if (vlan) out.push(vlanFinding(vlan, nets.filter((n) => n.vlan !== null).map((n) => n.name)));
  if (!nets.length) return out;

  if (nets.some((n) => n.mode === 'nat')) {
    const fwd = (await readFile(path.join(proc, 'sys', 'net', 'ipv4', 'ip_forward'), 'utf8').catch(() => '')).trim();
    out.push(fwd === '1'
      ? { check: 'ip-forward', severity: 'ok', subject: 'net.ipv4.ip_forward', message: 'IPv4 forwarding is on (NAT networks route through the host)', fix: null }
      : { check: 'ip-forward', severity: 'warning', subject: 'net.ipv4.ip_forward', message: `IPv4 forwarding is ${fwd === '0' ? 'off' : 'unreadable'}: guests on NAT networks cannot reach past the host (the daemon turns it on when it creates a NAT network)`, fix: fix('sysctl', '-w', 'net.ipv4.ip_forward=1') });
  }

  const listeners = dnsListeners([
    await readFile(path.join(proc, 'net', 'udp'), 'utf8').catch(() => ''),
    await readFile(path.join(proc, 'net', 'tcp'), 'utf8').catch(() => ''),
  ].join('\n'));
  const gateways = new Map(nets.filter((n) => n.gateway).map((n) => [n.gateway!, n.name]));
  // Each network's dnsmasq binds its gateway with --bind-interfaces; another server there, or one holding the wildcard address, keeps it out.
  const suspects = listeners.filter((l) => l.address === '0.0.0.0' || gateways.has(l.address));
  const owners = suspects.length ? await socketOwners(proc, new Set(suspects.map((l) => l.inode))) : new Map<string, string>();
  for (const l of suspects) {
    const who = owners.get(l.inode) ?? 'an unknown process';
    if (who === 'dnsmasq') continue;
    const net = gateways.get(l.address);
    out.push({ check: 'network-dns', severity: 'warning', subject: net ?? l.address,
      message: net ? `${who} listens on ${l.address}:53, the gateway of network ${net}: the network's DHCP/DNS server cannot bind there`
        : `${who} listens on 0.0.0.0:53: the networks' DHCP/DNS servers (dnsmasq, bound to each gateway) may fail to bind`,
      fix: null });
  }

  const routes = await run('ip', ['-j', 'route'], { timeoutMs: 5_000 }).then((r) => (r.code === 0 ? r.stdout : ''), () => '');
  const clashes = routes ? overlappingRoutes(nets, routes) : [];
  for (const c of clashes) {
    out.push({ check: 'network-subnet', severity: 'warning', subject: c.network, message: `the subnet of network ${c.network} overlaps the host route ${c.route}${c.dev ? ` on ${c.dev}` : ''}: guests cannot reach that network`, fix: null });
  }
  if (!clashes.length) out.push({ check: 'network-subnet', severity: 'ok', subject: null, message: `no network overlaps a host route (${nets.length} ${nets.length === 1 ? 'network' : 'networks'})`, fix: null });
  return out;
}

/** network-vlan: whether VLAN networks can be made here (bridge VLAN filtering; 802.1Q reported beside it). */
export function vlanFinding(s: VlanSupport, vlanNetworks: readonly string[]): Finding {
  const parts = `bridge VLAN filtering ${s.bridgeVlanFiltering ? 'yes' : 'no'}, 802.1Q ${s.dot1q ? 'yes' : 'no'}`;
  if (s.bridgeVlanFiltering) return { check: 'network-vlan', severity: 'ok', subject: null, message: `VLAN networks can be made (${parts})`, fix: null };
  return {
    check: 'network-vlan', severity: vlanNetworks.length ? 'critical' : 'info', subject: vlanNetworks.join(', ') || 'kernel',
    message: `${vlanNetworks.length ? `networks ${vlanNetworks.join(', ')} need VLANs, but ` : ''}this kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING): network create --vlan is refused (${parts}; ${s.detail})`,
    fix: s.dot1q ? null : fix('modprobe', '8021q'),
  };
}

/** inode → the command name of the process holding that socket (scans /proc/PID/fd; the doctor runs as root). */
async function socketOwners(proc: string, inodes: ReadonlySet<string>): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  for (const pid of await readdir(proc).catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const fds = await readdir(path.join(proc, pid, 'fd')).catch(() => [] as string[]);
    for (const fd of fds) {
      const m = /^socket:\[(\d+)\]$/.exec(await readlink(path.join(proc, pid, 'fd', fd)).catch(() => ''));
      if (m && inodes.has(m[1]!)) owners.set(m[1]!, (await readFile(path.join(proc, pid, 'comm'), 'utf8').catch(() => '?')).trim());
    }
  }
  return owners;
}
