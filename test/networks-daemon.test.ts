/**
 * Issue 18, network objects against a real daemon: the daemon runs inside a
 * network namespace this test creates (its QEMU, bridges, dnsmasq and
 * nftables with it; the test talks to it over its unix socket), creates a
 * NAT network, starts two test guests on it and shows: both get their leases,
 * one pings the other by name, `network rm` is refused while they use it, a
 * daemon restart creates nothing twice, and once the VMs are gone removing
 * the network leaves no link and no rule. Nothing happens in the test
 * runner's own namespace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkClient } from '../src/client/index.js';
import { isPolyvisorError } from '../src/shared/index.js';
import { killQemusUnder, startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { limit } from './helpers/limits.js';
import { NetnsLab } from './helpers/netns.js';
import { guestShell } from './helpers/shell.js';
import { READY, guestSpec, waitForLine } from './helpers/vm.js';

const lab = new NetnsLab();
let ns = '';
let stateDir = '';
let d: TestDaemon;
const nets = (): NetworkClient => new NetworkClient({ endpoint: { socketPath: d.socket } });
const start = (): Promise<TestDaemon> => startDaemon({ stateDir, netns: ns, env: { POLYVISOR_DEFAULT_NETWORK: '0' } });
const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isPolyvisorError(e) ? e.code : e));

/** nft ruleset and links with details, bridge timers (which tick) masked. */
async function nsSnapshot(): Promise<string> {
  const nft = (await lab.exec(ns, 'nft', ['list', 'ruleset'])).stdout;
  const links = (await lab.exec(ns, 'ip', ['-d', 'link'])).stdout.replace(/(\w+_timer)\s+[\d.]+/g, '$1 T');
  return `${nft}\n${links}`;
}

beforeAll(async () => {
  ns = await lab.add('daemon');
  stateDir = tempStateDir('netd');
  d = await start();
}, limit('daemon') + 30_000);

afterAll(async () => {
  await d?.stop();
  if (stateDir) killQemusUnder(stateDir);
  await lab.cleanup();
});

describe('virtual networks on a real daemon in a namespace', () => {
  it('creates a NAT network: its bridge is up in the namespace', async () => {
    const n = await nets().create({ name: 'pvn', mode: 'nat', subnet: '10.123.9.0/24' });
    expect(n).toMatchObject({ name: 'pvn', bridge: 'pvbr-pvn', gateway: '10.123.9.1', dnsDomain: 'pvn' });
    expect((await lab.exec(ns, 'ip', ['-4', 'addr', 'show', 'dev', 'pvbr-pvn'])).stdout).toContain('10.123.9.1/24');
    expect(await codeOf(nets().create({ name: 'pvn2', mode: 'nat', subnet: '10.123.9.0/25' }))).toBe('SUBNET_OVERLAP');
  });

  it('two guests on it get their leases and ping each other by name', async () => {
    for (const name of ['na', 'nb']) {
      await d.client.createVm(guestSpec(name, { networks: [{ network: 'pvn' }] } as never, 'pv.net=dhcp'));
      await d.client.action(name, 'start');
    }
    for (const name of ['na', 'nb']) {
      await waitForLine(d.client, name, READY);
      // Two TCG guests booting at once on two cores may miss the boot-time udhcpc's 5 s: ask again.
      await guestShell(d.client, name, 'ip -4 -o addr show dev eth0 | grep -q inet || udhcpc -i eth0 -n -q -t 10 -T 2 -s /usr/share/udhcpc/default.script >/dev/null 2>&1');
    }
    const show = await nets().show('pvn');
    const byVm = Object.fromEntries(show.nics.map((x) => [x.vm, x]));
    expect(Object.keys(byVm).sort()).toEqual(['na', 'nb']);
    const leases = await nets().leases('pvn');
    for (const vm of ['na', 'nb']) expect(leases).toContainEqual(expect.objectContaining({ mac: byVm[vm]!.mac, ip: byVm[vm]!.ip }));
    expect(await guestShell(d.client, 'na', 'ip -4 -o addr show dev eth0')).toContain(`${byVm['na']!.ip}/24`);
    expect(await guestShell(d.client, 'na', 'ping -c 2 -W 3 nb >/dev/null && echo PING-OK')).toContain('PING-OK');
    expect(await guestShell(d.client, 'nb', 'ping -c 2 -W 3 na.pvn >/dev/null && echo PING-OK')).toContain('PING-OK');
  }, limit('boot', 3));

  it('refuses to remove the network while the VMs use it, naming them', async () => {
    const err = await nets().remove('pvn').catch((e: unknown) => e);
    expect(isPolyvisorError(err, 'NETWORK_IN_USE')).toBe(true);
    expect((err as Error).message).toMatch(/na, nb/);
  });

  it('a daemon restart creates nothing twice: links and rules identical, the guests still talk', async () => {
    const before = await nsSnapshot();
    await d.stop();
    d = await start();
    expect(await nsSnapshot()).toBe(before);
    expect(await guestShell(d.client, 'na', 'ping -c 1 -W 3 nb >/dev/null && echo PING-OK')).toContain('PING-OK');
  }, limit('daemon') + limit('shell'));

  it('once the VMs are removed, removing the network leaves no link and no rule in the namespace', async () => {
    for (const name of ['na', 'nb']) await d.client.removeVm(name, { force: true });
    expect((await nets().show('pvn')).nics).toEqual([]);
    await nets().remove('pvn');
    const links = (await lab.exec(ns, 'ip', ['-o', 'link'])).stdout;
    expect(links).not.toMatch(/pvbr-|pvt-/);
    expect((await lab.exec(ns, 'nft', ['list', 'ruleset'])).stdout).not.toContain('10.123.9.');
    expect(await codeOf(nets().show('pvn'))).toBe('NETWORK_NOT_FOUND');
  });
});
