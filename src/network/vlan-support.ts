/**
 * Whether this kernel can carry VLANs on a bridge. Probed once, in the
 * namespace the runner works in: a throwaway bridge (marked as Polyvisor's,
 * so a daemon restart removes it if the probe was cut short) tries
 * `vlan_filtering 1` and an 802.1Q sub-interface, then goes. Kernels built
 * without CONFIG_BRIDGE_VLAN_FILTERING answer "Operation not supported"; without
 * CONFIG_VLAN_8021Q, "Unknown device type".
 */
import { randomBytes } from 'node:crypto';
import { fail } from '../shared/index.js';
import { ALIAS_PREFIX } from './links.js';
import type { CommandRunner } from './runner.js';
import type { NetworkDef, VlanSupport } from './types.js';

export type { VlanSupport };

export const PROBE_ALIAS = `${ALIAS_PREFIX}probe`;

const lastLine = (s: string): string => s.trim().split('\n').at(-1) ?? '';

/** The argv the probe runs, in order (pure; the unit test pins it). */
export function vlanProbeCommands(bridge: string): { setup: string[][]; filtering: string[]; dot1q: string[]; cleanup: string[][] } {
  return {
    setup: [['link', 'add', 'name', bridge, 'type', 'bridge'], ['link', 'set', 'dev', bridge, 'alias', PROBE_ALIAS]],
    filtering: ['link', 'set', 'dev', bridge, 'type', 'bridge', 'vlan_filtering', '1'],
    dot1q: ['link', 'add', 'link', bridge, 'name', `${bridge}v`, 'type', 'vlan', 'id', '1'],
    cleanup: [['link', 'del', 'dev', `${bridge}v`], ['link', 'del', 'dev', bridge]],
  };
}

export async function probeVlanSupport(runner: CommandRunner): Promise<VlanSupport> {
  const bridge = `pvprobe${randomBytes(3).toString('hex')}`; // 13 characters; its sub-interface 14
  const c = vlanProbeCommands(bridge);
  const ip = (args: string[]) => runner.run('ip', args, { allowFail: true });
  try {
    const made = await ip(c.setup[0]!);
    if (made.code !== 0) return { bridgeVlanFiltering: false, dot1q: false, detail: `no bridge could be made: ${lastLine(made.stderr)}` };
    await ip(c.setup[1]!);
    const f = await ip(c.filtering);
    const q = await ip(c.dot1q);
    const detail = [
      f.code === 0 ? null : `bridge vlan_filtering: ${lastLine(f.stderr)}`,
      q.code === 0 ? null : `802.1Q: ${lastLine(q.stderr)}`,
    ].filter((x) => x !== null).join('; ');
    return { bridgeVlanFiltering: f.code === 0, dot1q: q.code === 0, detail };
  } finally {
    for (const args of c.cleanup) await ip(args).catch(() => undefined);
  }
}

/** Refuses a VLAN network on a kernel without bridge VLAN filtering (NETWORK_VLAN_UNSUPPORTED), before anything is made. */
export function requireVlanSupport(def: Pick<NetworkDef, 'name' | 'vlan'>, s: VlanSupport): void {
  if (def.vlan === null || s.bridgeVlanFiltering) return;
  fail('NETWORK_VLAN_UNSUPPORTED',
    `network ${def.name} asks for VLAN ${def.vlan}, but this host's kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)${s.dot1q ? '' : ' and no 802.1Q (CONFIG_VLAN_8021Q)'}: ${s.detail}`,
    { details: { field: 'vlan', bridgeVlanFiltering: s.bridgeVlanFiltering, dot1q: s.dot1q } });
}
