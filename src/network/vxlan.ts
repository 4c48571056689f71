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

/**
 * The MTU a guest's NIC on this network must use, or null for the default
 * (1500). An overlay (bridge mode with a VNI) carries at most OVERLAY_MTU:
 * a full 1500-byte frame is dropped at the VXLAN port. Depends only on the
 * network's record, so a move's source and target give QEMU the same value.
 */
export function guestMtuFor(def: { mode: string; vni?: number | null }): number | null {
  return def.mode === 'bridge' && def.vni != null ? OVERLAY_MTU : null;
}

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

/**
 * Learned unicast entries (a guest's MAC → the member it was seen behind)
 * that point at a member not in `want`. One that crashed leaves them behind:
 * a VM restarted elsewhere by HA keeps its MAC, and until the entry aged out
 * (300 s) frames to it went to the dead member, since a freshly booted guest
 * need send nothing that reaches every member. Deleted, the MAC is unknown
 * again and its frames flood to the live members.
 */
export function staleLearnedEntries(json: string, want: readonly string[]): Array<{ mac: string; dst: string }> {
  const rows = JSON.parse(json.trim() === '' ? '[]' : json) as FdbJson[];
  const w = new Set(want);
  return rows.filter((r) => r.mac !== undefined && r.mac !== FLOOD_MAC && typeof r.dst === 'string' && !w.has(r.dst))
    .map((r) => ({ mac: r.mac!, dst: r.dst! }));
}

/** What to append and what to delete so the flood list is exactly `want` (this member left out). */
export function floodChanges(have: readonly string[], want: readonly string[]): { add: string[]; del: string[] } {
  const w = new Set(want);
  const h = new Set(have);
  return { add: [...w].filter((p) => !h.has(p)).sort(), del: [...h].filter((p) => !w.has(p)).sort() };
}

export const floodArgv = (verb: 'append' | 'del', dev: string, peer: string): string[] => ['fdb', verb, FLOOD_MAC, 'dev', dev, 'dst', peer];

/**
 * Makes the flood list of `dev` exactly `peers` (minus `local`) and forgets
 * the MACs learned behind members that are gone; returns what changed.
 */
export async function syncFloodEntries(
  runner: CommandRunner, dev: string, local: string, peers: readonly string[],
): Promise<{ add: string[]; del: string[]; forgot: string[] }> {
  const want = [...new Set(peers.map((p) => requireOverlayAddress(p, 'member overlay address')))].filter((p) => p !== local);
  const json = (await runner.run('bridge', ['-j', 'fdb', 'show', 'dev', dev])).stdout;
  const ch = floodChanges(parseFloodEntries(json), want);
  for (const p of ch.del) await runner.run('bridge', floodArgv('del', dev, p), { allowFail: true });
  for (const p of ch.add) await runner.run('bridge', floodArgv('append', dev, p));
  const stale = staleLearnedEntries(json, want);
  for (const e of stale) {
    requireOverlayAddress(e.dst, 'learned entry address');
    await runner.run('bridge', ['fdb', 'del', e.mac, 'dev', dev, 'dst', e.dst], { allowFail: true });
  }
  return { ...ch, forgot: stale.map((e) => e.mac) };
}
