/**
 * Polyvisor's nftables rules, generated whole from the networks and NICs and
 * loaded with one `nft -f` transaction (nft-apply in host-networks.ts), so a
 * second load of the same input changes nothing and nobody else's tables are
 * touched. Two tables (docs/networks.md):
 *
 * - `table inet polyvisor`: NAT (masquerade out of the uplink, DNAT port
 *   forwards from outside and from the host) and the routed filter (isolated
 *   networks have no way out; nat networks take no new inbound connection but
 *   forwarded ports; guests must use their subnet's addresses).
 * - `table bridge polyvisor`: MAC, IP and ARP anti-spoofing of each tap,
 *   for guest-to-guest traffic inside a bridge too. Each NIC firewall sits
 *   in the inet table, matched by the NIC address (see firewallChains).
 * Pure.
 */
import { parseCidr } from './ipv4.js';
import type { FirewallRule, NetworkDef, NicAttachment } from './types.js';

export const NFT_INET_TABLE = 'polyvisor';
export const NFT_BRIDGE_TABLE = 'polyvisor';

const q = (s: string): string => `"${s}"`;
const verdict = (a: 'accept' | 'drop'): string => (a === 'accept' ? 'return' : 'drop');

function portExpr(proto: 'tcp' | 'udp', port: FirewallRule['port']): string {
  if (port === null) return `meta l4proto ${proto}`;
  return typeof port === 'number' ? `${proto} dport ${port}` : `${proto} dport ${port.from}-${port.to}`;
}

/**
 * One firewall rule as an nft rule of a NIC chain. The peer is the source of
 * 'in' traffic and the destination of 'out' traffic. accept becomes `return`:
 * traffic between two guests must pass the sender's out chain AND the
 * receiver's in chain, and an accept verdict would end the base chain.
 */
export function firewallRuleLine(rule: FirewallRule): string {
  const parts: string[] = [];
  if (rule.peer !== null) parts.push(`ip ${rule.direction === 'in' ? 'saddr' : 'daddr'} ${rule.peer}`);
  if (rule.protocol === 'tcp' || rule.protocol === 'udp') parts.push(portExpr(rule.protocol, rule.port));
  else if (rule.protocol === 'icmp') parts.push('meta l4proto icmp');
  parts.push(rule.action === 'accept' ? 'return' : 'drop');
  return parts.join(' ');
}

function natChains(defs: readonly NetworkDef[], nics: readonly NicAttachment[]): string[] {
  const pre: string[] = [];
  const out: string[] = [];
  const post: string[] = [];
  const fwd: string[] = [];
  for (const d of defs) {
    if (d.mode === 'bridge' || d.subnet === null) continue;
    const br = q(d.bridge);
    if (d.mode === 'isolated') {
      fwd.push(`\t\tiifname ${br} oifname != ${br} drop`, `\t\toifname ${br} iifname != ${br} drop`);
      continue;
    }
    fwd.push(
      `\t\tiifname ${br} ip saddr != ${d.subnet} drop`,
      `\t\toifname ${br} ct state established,related accept`,
      `\t\toifname ${br} ct status dnat accept`,
      `\t\toifname ${br} iifname != ${br} drop`,
    );
    const uplink = d.uplink === null ? '' : ` oifname ${q(d.uplink)}`;
    post.push(`\t\tip saddr ${d.subnet} ip daddr != ${d.subnet}${uplink} ip daddr != { 224.0.0.0/24, 255.255.255.255 } masquerade`);
    for (const n of nics) {
      if (n.network !== d.name || n.ip === null) continue;
      for (const f of n.portForwards) {
        const to = `dnat ip to ${n.ip}:${f.guestPort}`;
        pre.push(`\t\tiifname != ${br} fib daddr type local meta nfproto ipv4 ${f.protocol} dport ${f.hostPort} ${to}`);
        out.push(`\t\tfib daddr type local meta nfproto ipv4 ${f.protocol} dport ${f.hostPort} ${to}`);
      }
    }
  }
  return [
    '\tchain prerouting {',
    '\t\ttype nat hook prerouting priority dstnat; policy accept;',
    ...pre,
    '\t}',
    '\tchain output {',
    '\t\ttype nat hook output priority -100; policy accept;',
    ...out,
    '\t}',
    '\tchain postrouting {',
    '\t\ttype nat hook postrouting priority srcnat; policy accept;',
    ...post,
    '\t}',
    '\tchain forward {',
    '\t\ttype filter hook forward priority filter; policy accept;',
    ...fwd,
    '\t}',
  ];
}

/** spoof-TAP of the bridge table: frames from the tap must carry the NIC's MAC (and IP when it has one), ARP included. */
function spoofChain(n: NicAttachment): string[] {
  const lines = [`\t\tether saddr != ${n.mac} drop`, `\t\tarp saddr ether != ${n.mac} drop`];
  if (n.ip !== null) {
    lines.push(
      '\t\tip saddr 0.0.0.0 udp sport 68 udp dport 67 return',
      `\t\tip saddr != ${n.ip} drop`,
      `\t\tarp saddr ip != ${n.ip} drop`,
    );
  }
  // No IPv6 plan yet: a NIC that must not spoof carries no IPv6 either.
  lines.push('\t\tether type ip6 drop');
  return [`\tchain spoof-${n.tap} {`, ...lines, '\t}'];
}

/** What the guest sends is policed here (tc shapes what it receives, host-networks.ts): over the rate, frames are dropped. */
function outLimit(n: NicAttachment): string[] {
  const rate = n.bandwidth?.outBytesPerS ?? null;
  if (rate === null) return [];
  const burst = Math.max(Math.ceil(rate / 10), 16_384);
  return [`\t\tiifname ${q(n.tap)} limit rate over ${rate} bytes/second burst ${burst} bytes drop`];
}

function bridgeTable(nics: readonly NicAttachment[]): string[] {
  const spoofing = nics.filter((n) => n.antiSpoof);
  return [
    `table bridge ${NFT_BRIDGE_TABLE} {`,
    ...spoofing.flatMap(spoofChain),
    '\tchain prerouting {',
    '\t\ttype filter hook prerouting priority filter; policy accept;',
    ...spoofing.map((n) => `\t\tiifname ${q(n.tap)} jump spoof-${n.tap}`),
    ...nics.flatMap(outLimit),
    '\t}',
    '}',
  ];
}

/**
 * Per-NIC firewall chains of the inet table, matched by the NIC's address
 * (anti-spoofing makes the address as good as the tap). Bridged traffic
 * reaches the inet hooks through br_netfilter (bridge-nf-call-iptables=1,
 * set by the executor), where conntrack makes the rules stateful; this
 * kernel family has no conntrack in the bridge family itself.
 */
function firewallChains(nics: readonly NicAttachment[]): { chains: string[]; jumps: string[]; input: string[]; output: string[] } {
  const chains: string[] = [];
  const jumps: string[] = [];
  const input: string[] = [];
  const output: string[] = [];
  for (const n of nics) {
    if (n.firewall === null || n.ip === null) continue;
    const fw = n.firewall;
    const rules = (dir: 'in' | 'out'): string[] => fw.rules.filter((r) => r.direction === dir).map((r) => `\t\t${firewallRuleLine(r)}`);
    chains.push(
      `\tchain out-${n.tap} {`,
      '\t\tct state established,related return',
      '\t\tudp sport 68 udp dport 67 return',
      ...rules('out'),
      `\t\t${verdict(fw.defaultOut)}`,
      '\t}',
      `\tchain in-${n.tap} {`,
      '\t\tct state established,related return',
      '\t\tudp sport 67 udp dport 68 return',
      ...rules('in'),
      `\t\t${verdict(fw.defaultIn)}`,
      '\t}',
    );
    // Traffic between two guests of one network passes both the sender's out and the receiver's in chain.
    jumps.push(`\t\tip saddr ${n.ip} jump out-${n.tap}`, `\t\tip daddr ${n.ip} jump in-${n.tap}`);
    input.push(`\t\tip saddr ${n.ip} jump out-${n.tap}`);
    output.push(`\t\tip daddr ${n.ip} jump in-${n.tap}`);
  }
  return { chains, jumps, input, output };
}

function baseChain(name: string, hook: string, priority: string, body: string[]): string[] {
  return [`\tchain ${name} {`, `\t\ttype filter hook ${hook} priority ${priority}; policy accept;`, ...body, '\t}'];
}

/**
 * The whole nft script: each Polyvisor table is declared (so delete never
 * fails), deleted, and declared again with its chains, all in one
 * transaction. With no networks the tables are just removed.
 */
export function nftRuleset(defs: readonly NetworkDef[], nics: readonly NicAttachment[]): string {
  const sorted = [...defs].sort((a, b) => a.name.localeCompare(b.name));
  for (const d of sorted) if (d.subnet !== null && !parseCidr(d.subnet)) throw new Error(`nftRuleset: bad subnet ${d.subnet}`);
  const known = new Set(sorted.map((d) => d.name));
  const onNets = nics.filter((n) => known.has(n.network));
  const lines = [
    '# Generated by Polyvisor: its own tables only, replaced whole on every change.',
    `table inet ${NFT_INET_TABLE}`,
    `delete table inet ${NFT_INET_TABLE}`,
    `table bridge ${NFT_BRIDGE_TABLE}`,
    `delete table bridge ${NFT_BRIDGE_TABLE}`,
  ];
  if (sorted.length === 0) return `${lines.join('\n')}\n`;
  const sortedNics = [...onNets].sort((a, b) => a.tap.localeCompare(b.tap));
  const fw = firewallChains(sortedNics);
  lines.push(
    `table inet ${NFT_INET_TABLE} {`,
    ...natChains(sorted, sortedNics),
    // Priority filter + 10: after the network's own forward chain, whose drops are final and whose accepts are not.
    ...fw.chains,
    ...baseChain('nic-forward', 'forward', 'filter + 10', fw.jumps),
    ...baseChain('nic-input', 'input', 'filter + 10', fw.input),
    ...baseChain('nic-output', 'output', 'filter + 10', fw.output),
    '}',
    ...bridgeTable(sortedNics),
  );
  return `${lines.join('\n')}\n`;
}
