import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { defaultsFor } from './defaults.js';
import { LinuxHostNetworks } from './host-networks.js';
import type { CommandRunner } from './runner.js';
import { probeVlanSupport, requireVlanSupport, vlanProbeCommands } from './vlan-support.js';

/** A kernel as this machine's: bridges yes, vlan_filtering "Operation not supported", 802.1Q "Unknown device type". */
function kernel(opts: { filtering: boolean; dot1q: boolean }) {
  const calls: string[] = [];
  const runner: CommandRunner = {
    run(cmd, args) {
      const line = [cmd, ...args].join(' ');
      calls.push(line);
      const no = (stderr: string) => Promise.resolve({ code: 2, signal: null, stdout: '', stderr });
      if (line.includes('vlan_filtering 1') && !opts.filtering) return no('RTNETLINK answers: Operation not supported\n');
      if (line.includes('type vlan') && !opts.dot1q) return no('Error: Unknown device type.\n');
      if (line.startsWith('ip -j')) return Promise.resolve({ code: 0, signal: null, stdout: '[]', stderr: '' });
      return Promise.resolve({ code: 0, signal: null, stdout: '', stderr: '' });
    },
  };
  return { runner, calls };
}

describe('VLAN support probe', () => {
  it('runs a marked throwaway bridge through vlan_filtering and 802.1Q, then removes it', async () => {
    const k = kernel({ filtering: false, dot1q: false });
    const s = await probeVlanSupport(k.runner);
    expect(s).toEqual({
      bridgeVlanFiltering: false, dot1q: false,
      detail: 'bridge vlan_filtering: RTNETLINK answers: Operation not supported; 802.1Q: Error: Unknown device type.',
    });
    const br = /ip link add name (pvprobe[0-9a-f]{6}) type bridge/.exec(k.calls[0]!)![1]!;
    expect(br.length).toBeLessThanOrEqual(14);
    const c = vlanProbeCommands(br);
    expect(k.calls).toEqual([...c.setup, c.filtering, c.dot1q, ...c.cleanup].map((a) => ['ip', ...a].join(' ')));
    expect(k.calls).toEqual([
      `ip link add name ${br} type bridge`,
      `ip link set dev ${br} alias polyvisor:probe`,
      `ip link set dev ${br} type bridge vlan_filtering 1`,
      `ip link add link ${br} name ${br}v type vlan id 1`,
      `ip link del dev ${br}v`,
      `ip link del dev ${br}`,
    ]);
  });

  it('says yes on a kernel that has both', async () => {
    expect(await probeVlanSupport(kernel({ filtering: true, dot1q: true }).runner)).toEqual({ bridgeVlanFiltering: true, dot1q: true, detail: '' });
  });

  it('refuses a VLAN network without bridge VLAN filtering, naming what is missing; lets others through', () => {
    const lan = defaultsFor('lan', 'nat', { vlan: 10 });
    const none = { bridgeVlanFiltering: false, dot1q: false, detail: 'bridge vlan_filtering: Operation not supported' };
    let err: unknown;
    try { requireVlanSupport(lan, none); } catch (e) { err = e; }
    expect(isPolyvisorError(err, 'NETWORK_VLAN_UNSUPPORTED')).toBe(true);
    expect((err as Error).message).toMatch(/VLAN 10.*CONFIG_BRIDGE_VLAN_FILTERING.*CONFIG_VLAN_8021Q/);
    expect(() => requireVlanSupport(lan, { ...none, dot1q: true })).toThrow(/CONFIG_BRIDGE_VLAN_FILTERING\)(?!.*8021Q)/);
    expect(() => requireVlanSupport(defaultsFor('flat', 'nat', {}), none)).not.toThrow();
    expect(() => requireVlanSupport(lan, { bridgeVlanFiltering: true, dot1q: false, detail: '' })).not.toThrow();
  });

  it('LinuxHostNetworks.ensure probes once and refuses before creating anything', async () => {
    const state = await mkdtemp(join(tmpdir(), 'pv-vlan-'));
    try {
      const k = kernel({ filtering: false, dot1q: false });
      const h = new LinuxHostNetworks({ stateDir: state, runner: k.runner });
      const lan = defaultsFor('lan', 'isolated', { vlan: 10 });
      await expect(h.ensure(lan)).rejects.toMatchObject({ code: 'NETWORK_VLAN_UNSUPPORTED' });
      await expect(h.ensure(lan)).rejects.toMatchObject({ code: 'NETWORK_VLAN_UNSUPPORTED' });
      expect(k.calls.filter((c) => c.includes('pvprobe') && c.includes('add name'))).toHaveLength(1);
      expect(k.calls.filter((c) => !c.includes('pvprobe'))).toEqual([]);
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  });
});
