/**
 * Issue 18, host plumbing: LinuxHostNetworks driving real bridges, taps,
 * dnsmasq and nftables inside namespaces this test creates ("host" runs the
 * plumbing and the guests, "outside" is the uplink's far end); two test
 * guests boot with plain QEMU (TCG) on taps of a NAT network.
 * Nothing is configured in the test runner's own namespace.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinuxHostNetworks, defaultsFor, hostCommandRunner, tapNameFor, type NetworkDef, type NicAttachment } from '../src/network/index.js';
import { NetnsGuest } from './helpers/netns-guest.js';
import { NetnsLab } from './helpers/netns.js';

const lab = new NetnsLab();
let host = '';
let outside = '';
let dir = '';
let nets: LinuxHostNetworks;
let g1: NetnsGuest;
let g2: NetnsGuest;

const MAC1 = '52:54:00:5e:00:01';
const MAC2 = '52:54:00:5e:00:02';
const natNet: NetworkDef = defaultsFor('pvlab', 'nat', {
  subnet: '10.123.5.0/24',
  uplink: 'pvup0',
  reservations: [
    { mac: MAC1, ip: '10.123.5.2', hostname: 'g1' },
    { mac: MAC2, ip: '10.123.5.3', hostname: 'g2' },
  ],
});
const isoNet: NetworkDef = defaultsFor('pviso', 'isolated', {
  subnet: '10.123.6.0/24',
  reservations: [{ mac: MAC2, ip: '10.123.6.3', hostname: 'g2' }],
});
const nic = (vm: string, mac: string, ip: string, over: Partial<NicAttachment> = {}): NicAttachment => ({
  vm, nic: 'net0', network: natNet.name, mac, tap: tapNameFor(vm, 'net0'), ip, antiSpoof: true,
  firewall: null, portForwards: [], bandwidth: null, linkUp: true, ...over,
});
/** An HTTP GET from inside a guest (busybox nc; the guest's wget is not usable here). */
const httpGet = (url: string): string => {
  const m = /^http:\/\/([^:/]+)(?::(\d+))?\/$/.exec(url)!;
  return `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${m[1]} ${m[2] ?? '80'} | grep -v '^HTTP\\|: '`;
};
const nic1 = nic('g1', MAC1, '10.123.5.2', {
  portForwards: [{ protocol: 'tcp', hostPort: 8080, guestPort: 80 }],
  bandwidth: { inBytesPerS: 10_000_000, outBytesPerS: 10_000_000 },
});
const nic2 = nic('g2', MAC2, '10.123.5.3');

/** nft ruleset, links with details and addresses, bridge timers (which tick) masked. */
async function hostSnapshot(): Promise<string> {
  const nft = (await lab.exec(host, 'nft', ['list', 'ruleset'])).stdout;
  const links = (await lab.exec(host, 'ip', ['-d', 'link'])).stdout.replace(/(\w+_timer)\s+[\d.]+/g, '$1 T');
  const addrs = (await lab.exec(host, 'ip', ['addr'])).stdout;
  return `${nft}\n${links}\n${addrs}`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pv-netplumb-'));
  host = await lab.add('host');
  outside = await lab.add('out');
  await lab.veth(host, 'pvup0', '10.200.0.1/24', outside, 'pvout0', '10.200.0.2/24');
  const www = await mkdtemp(join(dir, 'www-'));
  await writeFile(join(www, 'index.html'), 'outside-server\n');
  lab.start(outside, 'busybox', ['httpd', '-f', '-p', '10.200.0.2:8000', '-h', www]);
  nets = new LinuxHostNetworks({ stateDir: join(dir, 'state'), runner: hostCommandRunner({ netns: host }) });
  await nets.ensure(natNet);
  await nets.attach(nic1);
  await nets.attach(nic2);
  g1 = new NetnsGuest(lab, host, 'g1', nic1.tap, MAC1, dir);
  g2 = new NetnsGuest(lab, host, 'g2', nic2.tap, MAC2, dir);
  await Promise.all([g1.boot(), g2.boot()]);
  // Two TCG guests booting at once on two cores may miss the boot-time udhcpc's 5 s: ask again.
  for (const g of [g1, g2]) await g.sh('ip -4 -o addr show dev eth0 | grep -q inet || udhcpc -i eth0 -n -q -t 10 -T 2 -s /usr/share/udhcpc/default.script >/dev/null 2>&1');
});

afterAll(async () => {
  g1?.close();
  g2?.close();
  await lab.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe('a NAT network in a namespace', () => {
  it('gives both guests their reserved leases from dnsmasq', async () => {
    const leases = await nets.leases(natNet.name);
    expect(leases.map((l) => [l.mac, l.ip]).sort()).toEqual([[MAC1, '10.123.5.2'], [MAC2, '10.123.5.3']]);
    expect((await g1.sh('ip -4 -o addr show dev eth0')).out).toContain('10.123.5.2/24');
    // g1's limits are in place: tbf on its tap (to the guest), a policer in the bridge table (from it).
    expect((await lab.exec(host, 'tc', ['qdisc', 'show', 'dev', nic1.tap])).stdout).toMatch(/qdisc tbf .* rate 80Mbit/);
    expect((await lab.exec(host, 'nft', ['list', 'table', 'bridge', 'polyvisor'])).stdout).toContain(`iifname "${nic1.tap}" limit rate over`);
  });

  it('guests resolve each other by name and ping each other', async () => {
    const ns = await g1.sh('nslookup g2.pvlab 10.123.5.1');
    expect(ns.out).toContain('10.123.5.3');
    expect((await g1.sh('ping -c 2 -W 3 g2')).status).toBe(0);
    expect((await g2.sh('ping -c 2 -W 3 g1.pvlab')).status).toBe(0);
  });

  it('reaches a server in the outside namespace through NAT', async () => {
    const r = await g1.sh(httpGet('http://10.200.0.2:8000/'));
    expect(r.out).toContain('outside-server');
  });

  it('a port forward from outside reaches the guest\'s httpd; other host ports do not', async () => {
    const r = await lab.exec(outside, 'curl', ['-s', '--max-time', '5', 'http://10.200.0.1:8080/']);
    expect(r.stdout).toContain('polyvisor-guest g1');
    const direct = await lab.exec(outside, 'curl', ['-s', '--max-time', '3', 'http://10.123.5.3/'], true);
    expect(direct.code).not.toBe(0);
  });

  it('a firewall rule blocks a port between the guests, and removing it opens it', async () => {
    const fetch = (): Promise<{ status: number }> => g1.sh(`${httpGet('http://10.123.5.3/')} | grep -q polyvisor-guest`);
    expect((await fetch()).status).toBe(0);
    await nets.attach({ ...nic2, firewall: { defaultIn: 'accept', defaultOut: 'accept', rules: [{ direction: 'in', action: 'drop', protocol: 'tcp', port: 80, peer: null }] } });
    expect((await fetch()).status).not.toBe(0);
    expect((await g1.sh('ping -c 1 -W 3 10.123.5.3')).status).toBe(0);
    await nets.attach(nic2);
    expect((await fetch()).status).toBe(0);
  });

  it('cuts off a guest that changes its IP or its MAC (anti-spoofing)', async () => {
    const ping = (): Promise<{ status: number }> => g1.sh('ping -c 2 -W 2 10.123.5.3');
    await g1.sh('ip addr flush dev eth0; ip addr add 10.123.5.77/24 dev eth0');
    expect((await ping()).status).not.toBe(0);
    await g1.sh('ip addr flush dev eth0; ip addr add 10.123.5.2/24 dev eth0; ip route add default via 10.123.5.1');
    expect((await ping()).status).toBe(0);
    await g1.sh('ip link set eth0 address 52:54:00:5e:00:99');
    expect((await ping()).status).not.toBe(0);
    await g1.sh(`ip link set eth0 address ${MAC1}`);
    expect((await ping()).status).toBe(0);
  });

  it('an isolated network has no way out, while its own gateway answers', async () => {
    await nets.ensure(isoNet);
    await nets.attach({ ...nic2, network: isoNet.name, ip: '10.123.6.3' });
    const renew = await g2.sh('udhcpc -i eth0 -n -q -t 5 -T 1 -s /usr/share/udhcpc/default.script >/dev/null 2>&1; ip -4 -o addr show dev eth0');
    expect(renew.out).toContain('10.123.6.3/24');
    expect((await g2.sh('ip -4 route')).out).not.toContain('default'); // dnsmasq offers no router here
    // Even with a route the guest adds itself, nothing is forwarded off the bridge.
    await g2.sh('ip route add default via 10.123.6.1');
    expect((await g2.sh('ping -c 1 -W 3 10.123.6.1')).status).toBe(0);
    expect((await g2.sh(`${httpGet('http://10.200.0.2:8000/')} | grep -q outside-server`)).status).not.toBe(0);
    expect((await g2.sh('ping -c 1 -W 3 10.123.5.2')).status).not.toBe(0);
    expect((await g2.sh('ping -c 1 -W 3 10.200.0.1')).status).toBe(0); // the host itself, as on libvirt's isolated networks
  });

  it('VLAN networks (bridge VLAN filtering), where the kernel has it', async () => {
    const probe = await lab.exec(host, 'ip', ['link', 'add', 'pvprobe0', 'type', 'bridge', 'vlan_filtering', '1'], true);
    if (probe.code !== 0) {
      // This kernel is built without CONFIG_BRIDGE_VLAN_FILTERING: ensure() must say so clearly, before making anything.
      const v10 = defaultsFor('pvv10', 'isolated', { subnet: '10.123.10.0/24', vlan: 10 });
      const before = await hostSnapshot();
      await expect(nets.ensure(v10)).rejects.toMatchObject({ code: 'NETWORK_VLAN_UNSUPPORTED' });
      expect(await hostSnapshot()).toBe(before);
      return;
    }
    await lab.exec(host, 'ip', ['link', 'del', 'pvprobe0']);
    throw new Error('VLAN guests test not written yet: this kernel has VLAN filtering');
  });

  it('ensure() and reconcile() twice leave nft list ruleset and ip -d link identical', async () => {
    const defs = [natNet, isoNet];
    const nics = [nic1, { ...nic2, network: isoNet.name, ip: '10.123.6.3' }];
    await nets.reconcile(defs, nics);
    const first = await hostSnapshot();
    await nets.ensure(natNet);
    await nets.reconcile(defs, nics);
    await nets.reconcile(defs, nics);
    expect(await hostSnapshot()).toBe(first);
  });

  it('remove() leaves no link, rule, dnsmasq process or file', async () => {
    const pidFiles = [natNet.name, isoNet.name].map((n) => join(dir, 'state', 'networks', n, 'dnsmasq.pid'));
    const dnsmasqPids = await Promise.all(pidFiles.map(async (f) => Number((await readFile(f, 'utf8')).trim())));
    const inHost = await lab.pidsIn(host);
    for (const pid of dnsmasqPids) expect(inHost).toContain(pid);
    g1.close();
    g2.close();
    await lab.stop(g1.pid);
    await lab.stop(g2.pid);
    await nets.detach('g1', 'net0');
    await nets.detach('g2', 'net0');
    await nets.remove(natNet.name);
    await nets.remove(isoNet.name);
    for (const pid of dnsmasqPids) expect(() => process.kill(pid, 0)).toThrow();
    expect(await lab.pidsIn(host)).toEqual([]);
    expect((await lab.exec(host, 'nft', ['list', 'ruleset'])).stdout.trim()).toBe('');
    const links = (await lab.exec(host, 'ip', ['-o', 'link'])).stdout.split('\n').filter(Boolean).map((l) => l.split(':')[1]!.trim().split('@')[0]);
    expect(links).toEqual(['lo', 'pvup0']);
    expect(await readdir(join(dir, 'state', 'networks'))).toEqual([]);
  });
});
