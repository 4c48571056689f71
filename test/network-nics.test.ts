/**
 * Issue 18, NICs changed on a running VM, against a real daemon inside a
 * network namespace this test creates: `vm nic add` hot-plugs a NIC on a NAT
 * network (the host's tap first, then QMP netdev_add + device_add) and the
 * busybox guest sees it, takes its dnsmasq lease and pings the gateway; its
 * addresses show in the VM view with their source; `vm nic set --link down`
 * cuts the guest off and `up` brings it back; a hot-plug that fails halfway
 * (no free hot-plug port) leaves no tap and the spec as it was; `vm nic rm`
 * takes the device out of the guest and the tap off the host. Nothing happens
 * in the test runner's own namespace.
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
const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isPolyvisorError(e) ? e.code : e));
const GW = '10.123.21.1';
const links = async (): Promise<string> => (await lab.exec(ns, 'ip', ['-o', 'link'])).stdout;
/** The guest asks dnsmasq for a lease on `dev` (the boot-time udhcpc only ran for the NICs it had then). */
const dhcp = (dev: string) => `ip link set ${dev} up; udhcpc -i ${dev} -n -q -t 10 -T 2 -s /usr/share/udhcpc/default.script >/dev/null 2>&1; ip -4 -o addr show dev ${dev}`;
const pings = async (vm: string): Promise<boolean> => (await guestShell(d.client, vm, `ping -c 2 -W 2 ${GW} >/dev/null 2>&1 && echo PING-OK || echo PING-FAIL`)).includes('PING-OK');

beforeAll(async () => {
  ns = await lab.add('nics');
  stateDir = tempStateDir('nics');
  d = await startDaemon({ stateDir, netns: ns, env: { POLYVISOR_DEFAULT_NETWORK: '0' } });
  await nets().create({ name: 'pvh', mode: 'nat', subnet: '10.123.21.0/24' });
  await d.client.createVm(guestSpec('hx', {}, 'pv.net=dhcp'));
  await d.client.action('hx', 'start');
  await waitForLine(d.client, 'hx', READY);
}, limit('daemon') + limit('boot') + 30_000);

afterAll(async () => {
  await d?.stop();
  if (stateDir) killQemusUnder(stateDir);
  await lab.cleanup();
});

describe('NICs on a running VM (hot-plug, link, addresses)', () => {
  let mac = '';
  let ip = '';
  let tap = '';

  it('vm nic add hot-plugs a NIC: the guest sees its MAC, gets its lease and pings the gateway', async () => {
    expect((await guestShell(d.client, 'hx', 'ls /sys/class/net')).trim().split(/\s+/).sort()).toEqual(['lo']);
    const r = await nets().addVmNic('hx', { network: 'pvh' });
    expect(r).toMatchObject({ vm: 'hx', live: true, nic: { name: 'net0', network: 'pvh', type: 'network', linkUp: true } });
    mac = r.nic.mac;
    ip = r.nic.reservedIp!;
    tap = r.nic.tap!;
    expect(ip).toMatch(/^10\.123\.21\./);
    expect(await links()).toContain(`${tap}:`);
    expect((await d.client.getVm('hx')).spec.networks).toEqual([expect.objectContaining({ name: 'net0', network: 'pvh' })]);
    const addr = await guestShell(d.client, 'hx', 'for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/class/net/eth0 ] && break; sleep 1; done; cat /sys/class/net/eth0/address');
    expect(addr.trim()).toBe(mac);
    expect(await guestShell(d.client, 'hx', dhcp('eth0'))).toContain(`${ip}/24`);
    expect(await pings('hx')).toBe(true);
  }, limit('shell', 4));

  it('the VM view and vm nic list show its addresses with their source (dnsmasq lease, guest agent)', async () => {
    const v = await d.client.getVm('hx');
    expect(v.nics).toEqual([expect.objectContaining({ name: 'net0', mac, tap, reservedIp: ip, addresses: expect.arrayContaining([{ address: ip, source: 'lease' }]) })]);
    // The agent reports interfaces once it runs; ask until it has (bounded by the shell limit).
    const deadline = Date.now() + limit('shell');
    let agent: unknown[] = [];
    while (Date.now() < deadline) {
      agent = (await nets().vmNics('hx'))[0]!.addresses.filter((a) => a.source === 'agent');
      if (agent.length > 0) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(agent).toContainEqual({ address: ip, source: 'agent' });
  }, limit('shell', 2));

  it('link down cuts the guest off the gateway, link up brings it back; the spec keeps it', async () => {
    expect((await nets().setVmNicLink('hx', 'net0', false))).toMatchObject({ live: true, nic: { linkUp: false } });
    expect((await d.client.getVm('hx')).spec.networks[0]).toMatchObject({ linkUp: false });
    expect(await guestShell(d.client, 'hx', 'cat /sys/class/net/eth0/carrier')).toContain('0');
    expect(await pings('hx')).toBe(false);
    await nets().setVmNicLink('hx', 'net0', true);
    expect((await d.client.getVm('hx')).spec.networks[0]).toMatchObject({ linkUp: true });
    expect(await guestShell(d.client, 'hx', 'cat /sys/class/net/eth0/carrier')).toContain('1');
    expect(await pings('hx')).toBe(true);
  }, limit('shell', 6));

  it('bad input is refused with catalogue errors and changes nothing', async () => {
    expect(await codeOf(nets().addVmNic('hx', { network: 'nosuch' }))).toBe('NETWORK_NOT_FOUND');
    expect(await codeOf(nets().addVmNic('hx', { network: 'pvh', name: 'net0' }))).toBe('NIC_EXISTS');
    expect(await codeOf(nets().addVmNic('hx', { network: 'pvh', mac })).then((c) => c)).toBe('NIC_EXISTS');
    expect(await codeOf(nets().addVmNic('hx', { network: 'pvh', name: 'netx', ip: '10.9.9.9' }))).toBe('NETWORK_INVALID');
    expect(await codeOf(nets().removeVmNic('hx', 'nosuch'))).toBe('NIC_NOT_FOUND');
    expect((await d.client.getVm('hx')).spec.networks.map((n) => n.name)).toEqual(['net0']);
    expect((await links()).match(/pvt-/g)).toHaveLength(1);
  });

  it('a hot-plug that fails halfway (every hot-plug port taken) leaves no tap and the spec unchanged', async () => {
    // q35 has 4 hot-plug ports; net0 holds one. Fill the rest, then one more must fail after its tap was made.
    for (const n of ['net1', 'net2', 'net3']) await nets().addVmNic('hx', { network: 'pvh', name: n });
    expect((await links()).match(/pvt-/g)).toHaveLength(4);
    const err = await nets().addVmNic('hx', { network: 'pvh', name: 'net4' }).catch((e: unknown) => e);
    expect(isPolyvisorError(err, 'HOTPLUG_UNSUPPORTED')).toBe(true);
    expect((await d.client.getVm('hx')).spec.networks.map((n) => n.name)).toEqual(['net0', 'net1', 'net2', 'net3']);
    expect((await links()).match(/pvt-/g)).toHaveLength(4);
    expect((await nets().show('pvh')).nics.map((n) => n.nic).sort()).toEqual(['net0', 'net1', 'net2', 'net3']);
    for (const n of ['net1', 'net2', 'net3']) await nets().removeVmNic('hx', n);
  }, limit('shell', 3));

  it('vm nic rm unplugs it: gone from the guest, its tap gone from the host, its address released', async () => {
    await nets().removeVmNic('hx', 'net0');
    expect((await d.client.getVm('hx')).spec.networks).toEqual([]);
    expect((await guestShell(d.client, 'hx', 'ls /sys/class/net')).trim().split(/\s+/)).toEqual(['lo']);
    expect(await links()).not.toMatch(/pvt-/);
    expect((await nets().show('pvh')).nics).toEqual([]);
  }, limit('shell', 2));

  it('on a stopped VM the spec alone changes, and the next start has the NIC with its link state', async () => {
    await d.client.action('hx', 'kill');
    const r = await nets().addVmNic('hx', { network: 'pvh', linkUp: false });
    expect(r).toMatchObject({ live: false, nic: { name: 'net0', tap: null, linkUp: false } });
    expect(await links()).not.toMatch(/pvt-/);
    await d.client.action('hx', 'start');
    await waitForLine(d.client, 'hx', READY); // a start begins a new serial log
    expect(await guestShell(d.client, 'hx', 'cat /sys/class/net/eth0/carrier')).toContain('0');
    expect(await links()).toMatch(/pvt-/);
  }, limit('boot') + limit('shell', 2));
});
