/**
 * The VXLAN port of a network that spans cluster hosts (issue 19,
 * docs/networks.md "Across cluster hosts"). A bridge-mode network with a VNI
 * gets, on each member that runs one of its VMs, a VXLAN link enslaved to its
 * bridge: `local` is this member's overlay address (published in its host
 * facts), and one all-zero flood entry per other member
 * (`bridge fdb append 00:00:00:00:00:00 dev VX dst PEER`) carries broadcast,
 * unknown unicast and multicast to every member, head-end replicated (no
 * multicast on the fabric needed). Unicast MACs are learned from what
 * arrives. The link carries the network's alias, so removing or reconciling
 * the network takes it with the bridge. Pure argv and diff here; the runner
 * runs them (host-networks.ts).
 */
import { PolyvisorError } from '../shared/index.js';
import { parseIp } from './ipv4.js';
import type { CommandRunner } from './runner.js';

/** The IANA VXLAN port. */
export const VXLAN_PORT = 4789;
/** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers. */
export const VXLAN_OVERHEAD = 50;
/** The overlay's MTU on a fabric of standard 1500-byte frames. */
export const OVERLAY_MTU = 1500 - VXLAN_OVERHEAD;
const FLOOD_MAC = '00:00:00:00:00:00';

/** `pvvx` + the VNI in decimal: at most 12 characters for a 24-bit VNI, within IFNAMSIZ. */
export function vxlanNameFor(vni: number): string {
  if (!Number.isInteger(vni) || vni < 1 || vni > 0xffffff) throw new Error(`vxlan: VNI ${vni} is outside 1-16777215`);
  return `pvvx${vni}`;
}

/** A fabric address must be a plain IPv4 address: it becomes an argv word of `ip` and `bridge`. */
export function requireOverlayAddress(addr: string, what: string): string {
  if (parseIp(addr) === null) throw new PolyvisorError('NETWORK_INVALID', `${what} "${addr}" is not an IPv4 address`, { details: { field: 'overlayAddress' } });
  return addr;
}

export function vxlanAddArgv(name: string, vni: number, local: string): string[] {
  return ['link', 'add', 'name', name, 'type', 'vxlan', 'id', String(vni), 'dstport', String(VXLAN_PORT), 'local', local];
}

interface FdbJson { mac?: string; dst?: string }

/** The flood destinations a VXLAN link has (`bridge -j fdb show dev VX`). */
export function parseFloodEntries(json: string): string[] {
  const rows = JSON.parse(json.trim() === '' ? '[]' : json) as FdbJson[];
  return rows.filter((r) => r.mac === FLOOD_MAC && typeof r.dst === 'string').map((r) => r.dst!).sort();
}

/** What to append and what to delete so the flood list is exactly `want` (this member left out). */
export function floodChanges(have: readonly string[], want: readonly string[]): { add: string[]; del: string[] } {
  const w = new Set(want);
  const h = new Set(have);
  return { add: [...w].filter((p) => !h.has(p)).sort(), del: [...h].filter((p) => !w.has(p)).sort() };
}

export const floodArgv = (verb: 'append' | 'del', dev: string, peer: string): string[] => ['fdb', verb, FLOOD_MAC, 'dev', dev, 'dst', peer];

/** Makes the flood list of `dev` exactly `peers` (minus `local`); returns what changed. */
export async function syncFloodEntries(runner: CommandRunner, dev: string, local: string, peers: readonly string[]): Promise<{ add: string[]; del: string[] }> {
  const want = [...new Set(peers.map((p) => requireOverlayAddress(p, 'member overlay address')))].filter((p) => p !== local);
  const have = parseFloodEntries((await runner.run('bridge', ['-j', 'fdb', 'show', 'dev', dev])).stdout);
  const ch = floodChanges(have, want);
  for (const p of ch.del) await runner.run('bridge', floodArgv('del', dev, p), { allowFail: true });
  for (const p of ch.add) await runner.run('bridge', floodArgv('append', dev, p));
  return ch;
}
