/**
 * Issue 18, VLANs on this kernel: the daemon runs inside a namespace this
 * test creates. The test machines' kernel has neither bridge VLAN filtering
 * nor 802.1Q, so `network create --vlan` must be refused with
 * NETWORK_VLAN_UNSUPPORTED before anything is made: the namespace's links,
 * nftables ruleset and processes are the same after the refusal as before,
 * and no record is left. `doctor` reports what the kernel has. On a kernel
 * with VLAN filtering the same test checks the bridge filters instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkClient, OpsClient } from '../src/client/index.js';
import { isPolyvisorError } from '../src/shared/index.js';
import { startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { limit } from './helpers/limits.js';
import { NetnsLab } from './helpers/netns.js';

const lab = new NetnsLab();
let ns = '';
let outside = '';
let d: TestDaemon;
let kernelHasFiltering = false;
const nets = (): NetworkClient => new NetworkClient({ endpoint: { socketPath: d.socket } });

/** Links (bridge timers masked), the whole ruleset and the processes in the namespace. */
async function nsSnapshot(): Promise<{ links: string; nft: string; pids: number[] }> {
  return {
    links: (await lab.exec(ns, 'ip', ['-d', 'link'])).stdout.replace(/(\w+_timer)\s+[\d.]+/g, '$1 T'),
    nft: (await lab.exec(ns, 'nft', ['list', 'ruleset'])).stdout,
    pids: (await lab.pidsIn(ns)).sort(),
  };
}

beforeAll(async () => {
  ns = await lab.add('vlan');
  outside = await lab.add('out');
  await lab.veth(ns, 'uplink0', null, outside, 'peer0', null);
  // What this kernel has, asked directly (a bridge of the test's own, in the test's namespace).
  await lab.exec(ns, 'ip', ['link', 'add', 'name', 'kprobe', 'type', 'bridge']);
  kernelHasFiltering = (await lab.exec(ns, 'ip', ['link', 'set', 'dev', 'kprobe', 'type', 'bridge', 'vlan_filtering', '1'], true)).code === 0;
  await lab.exec(ns, 'ip', ['link', 'del', 'dev', 'kprobe']);
  d = await startDaemon({ stateDir: tempStateDir('vlan'), netns: ns, env: { POLYVISOR_DEFAULT_NETWORK: '0' } });
}, limit('daemon') + 30_000);

afterAll(async () => {
  await d?.stop();
  await lab.cleanup();
});

describe('VLAN networks on this host', () => {
  it('a VLAN network is refused with NETWORK_VLAN_UNSUPPORTED (or built with filtering where the kernel has it), leaving no trace', async () => {
    const before = await nsSnapshot();
    for (const req of [
      { name: 'v10', mode: 'isolated' as const, vlan: 10 },
      { name: 'v20', mode: 'nat' as const, vlan: 20, subnet: '10.123.20.0/24' },
      { name: 'trunk', mode: 'bridge' as const, vlan: 30, uplink: 'uplink0' },
    ]) {
      const got = await nets().create(req).then((v) => v, (e: unknown) => e);
      if (kernelHasFiltering) {
        expect(got).toMatchObject({ name: req.name, vlan: req.vlan });
        const br = JSON.parse((await lab.exec(ns, 'ip', ['-j', '-d', 'link', 'show', 'dev', `pvbr-${req.name}`])).stdout) as Array<{ linkinfo: { info_data: { vlan_filtering: number } } }>;
        expect(br[0]!.linkinfo.info_data.vlan_filtering).toBe(1);
        await nets().remove(req.name);
        continue;
      }
      expect(isPolyvisorError(got, 'NETWORK_VLAN_UNSUPPORTED')).toBe(true);
      expect((got as Error).message).toMatch(new RegExp(`network ${req.name} asks for VLAN ${req.vlan}.*CONFIG_BRIDGE_VLAN_FILTERING.*CONFIG_VLAN_8021Q.*Operation not supported`));
    }
    expect(await nets().list()).toEqual([]);
    const after = await nsSnapshot();
    expect(after.links).toBe(before.links);
    expect(after.nft).toBe(before.nft);
    expect(after.pids).toEqual(before.pids);
    // The uplink was never enslaved and no probe link is left behind.
    expect(after.links).not.toMatch(/pvprobe|pvbr-/);
    expect(after.links).not.toMatch(/uplink0@\S+:.*master/);
  });

  it('a network without a VLAN is still made on the same host', async () => {
    const n = await nets().create({ name: 'flat', mode: 'isolated', subnet: '10.123.30.0/24' });
    expect(n).toMatchObject({ name: 'flat', vlan: null });
    expect((await lab.exec(ns, 'ip', ['-4', 'addr', 'show', 'dev', 'pvbr-flat'])).stdout).toContain('10.123.30.1/24');
    await nets().remove('flat');
    expect((await lab.exec(ns, 'ip', ['link', 'show', 'dev', 'pvbr-flat'], true)).code).not.toBe(0);
  });

  it('doctor reports the kernel\'s VLAN support', async () => {
    const report = await new OpsClient({ endpoint: { socketPath: d.socket } }).doctor();
    const v = report.findings.find((f) => f.check === 'network-vlan');
    expect(v).toBeDefined();
    if (kernelHasFiltering) {
      expect(v!.severity).toBe('ok');
    } else {
      expect(v!.severity).toBe('info');
      expect(v!.message).toMatch(/bridge VLAN filtering no, 802\.1Q no/);
    }
  }, 120_000);
});
