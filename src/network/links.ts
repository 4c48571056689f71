/**
 * What the host has: links (`ip -j -d link show`) and addresses. Every link
 * Polyvisor creates carries an ifalias "polyvisor:net:NAME" (bridges) or
 * "polyvisor:nic:VM/NIC" (taps): that, not the name, is what makes it ours.
 */
import type { CommandRunner } from './runner.js';

export const ALIAS_PREFIX = 'polyvisor:';
export const netAlias = (network: string): string => `${ALIAS_PREFIX}net:${network}`;
export const nicAlias = (vm: string, nic: string): string => `${ALIAS_PREFIX}nic:${vm}/${nic}`;

export interface LinkInfo {
  name: string;
  alias: string | null;
  kind: string | null;
  master: string | null;
  up: boolean;
  vlanFiltering: boolean;
  nfCallIptables: boolean;
  qdisc: string | null;
  /** A tun/tap's owner uid and group (null: none set, or not a tun device). */
  tunUser: number | null;
  tunGroup: number | null;
}

interface IpLinkJson {
  ifname: string;
  ifalias?: string;
  master?: string;
  flags?: string[];
  qdisc?: string;
  linkinfo?: { info_kind?: string; info_data?: { vlan_filtering?: number; nf_call_iptables?: number; user?: number; group?: number } };
}

export function parseLinks(json: string): LinkInfo[] {
  const rows = JSON.parse(json.trim() === '' ? '[]' : json) as IpLinkJson[];
  return rows.map((r) => ({
    name: r.ifname,
    alias: r.ifalias ?? null,
    kind: r.linkinfo?.info_kind ?? null,
    master: r.master ?? null,
    up: (r.flags ?? []).includes('UP'),
    vlanFiltering: r.linkinfo?.info_data?.vlan_filtering === 1,
    nfCallIptables: r.linkinfo?.info_data?.nf_call_iptables === 1,
    qdisc: r.qdisc ?? null,
    tunUser: r.linkinfo?.info_kind === 'tun' ? r.linkinfo.info_data?.user ?? null : null,
    tunGroup: r.linkinfo?.info_kind === 'tun' ? r.linkinfo.info_data?.group ?? null : null,
  }));
}

export async function listLinks(runner: CommandRunner): Promise<LinkInfo[]> {
  return parseLinks((await runner.run('ip', ['-j', '-d', 'link', 'show'])).stdout);
}

/** IPv4 addresses (ADDR/PREFIX) on a link. */
export async function linkAddresses(runner: CommandRunner, dev: string): Promise<string[]> {
  const r = await runner.run('ip', ['-j', '-4', 'addr', 'show', 'dev', dev]);
  const rows = JSON.parse(r.stdout.trim() === '' ? '[]' : r.stdout) as Array<{ addr_info?: Array<{ local: string; prefixlen: number }> }>;
  return rows.flatMap((x) => (x.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`));
}
