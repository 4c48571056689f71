/**
 * Issue 19, networks across cluster hosts, with real guests: a "fabric"
 * namespace holds a bridge (10.78.0.1/24) and etcd; three members h1-h3 each
 * run in a namespace of their own, linked to the fabric by a veth pair
 * (10.78.0.11-13), made a cluster by `cluster init` and `cluster join`. A
 * bridge-mode network `ov` made on one member is the same record (and VNI) on
 * all; each member running one of its guests gets a VXLAN port on its bridge
 * (local = its fabric address, flood entries for the other members, MTU 1450).
 * Two busybox guests with static addresses, a1 on h1 and a2 on h2, ping each
 * other over the overlay; a1 then moves live to h3 and keeps its MAC and
 * address, and the two still ping each other both ways. When h2's daemon stops
 * (its lease runs out) h3 drops h2 from its flood list, and adds it back when h2
 * rejoins. Guests on the overlay get its MTU (virtio host_mtu=1450): eth0 says
 * 1450 and a 1472-byte ping (a 1500-byte packet, which a 1500-MTU guest would
 * send whole and the VXLAN port would drop) crosses hosts, fragmented.
 * `host drain` of a1's member moves it live; it keeps MAC, address and
 * allocation and reaches a2. An HA guest (ha: true, a raw disk on a shared
 * folder) on the overlay whose member crashes (daemon and QEMU SIGKILLed)
 * runs again on another member with the same MAC, address and allocation,
 * reachable; the crashed member's restart (its leftover tap removed) keeps
 * that allocation. Every address and link lives in the namespaces this test makes.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, ftruncateSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkClient } from '../src/client/index.js';
import { newUuid } from '../src/shared/index.js';
import { killClusterHosts } from './helpers/cluster-hosts.js';
import { startDaemon, tempStateDir, vmTempDir, type TestDaemon } from './helpers/daemon.js';
import { runCli } from './helpers/http.js';
import { limit } from './helpers/limits.js';
import { NetnsLab } from './helpers/netns.js';
import { READY, guestSpec, waitForLine } from './helpers/vm.js';

const lab = new NetnsLab();
const ETCD = 'http://10.78.0.1:2379';
/** Not a multiple of 256 KiB (FACTS: QEMU 7.2's TCG dirty-page bug). */
const MEM = '130820Ki';
const NAMES = ['h1', 'h2', 'h3'] as const;
type Name = (typeof NAMES)[number];
const hosts = new Map<Name, TestDaemon>();
const nsOf = new Map<Name, string>();
const addrOf = (h: Name): string => `10.78.0.${11 + NAMES.indexOf(h)}`;
const argsOf = (h: Name): string[] => ['--host-name', h, '--listen', `${addrOf(h)}:0`];
let etcdDir = '';
let etcdOut = '';
/** A folder every member reaches (one filesystem here; NFS or Ceph in real use): the HA guest's disk. */
let shared = '';

const host = (h: Name): TestDaemon => hosts.get(h)!;
const nets = (h: Name): NetworkClient => new NetworkClient({ endpoint: { socketPath: host(h).socket } });
const inNs = async (h: Name, cmd: string, args: string[]): Promise<string> => (await lab.exec(nsOf.get(h)!, cmd, args)).stdout;
const taps = async (h: Name): Promise<string[]> => (await inNs(h, 'ip', ['-o', 'link'])).match(/pvt-[0-9a-z]+/g) ?? [];
const fingerprintOf = (d: TestDaemon): string =>
  (JSON.parse(readFileSync(path.join(d.stateDir, 'daemon.json'), 'utf8')) as { tlsFingerprint: string }).tlsFingerprint;

async function ok(h: Name, args: string[]): Promise<string> {
  const r = await runCli(['--socket', host(h).socket, ...args]);
  if (r.code !== 0) throw new Error(`polyvisor ${args.join(' ')} on ${h} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function until(what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  for (const end = Date.now() + ms; !(await check());) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function restart(h: Name): Promise<void> {
  const d = host(h);
  await d.stop();
  hosts.set(h, await startDaemon({ stateDir: d.stateDir, netns: nsOf.get(h)!, extraArgs: argsOf(h) }));
}

/**
 * Runs `command` in the guest's serial shell like helpers/shell.ts, but first presses Enter until the shell's prompt
 * comes back: on this loaded host a command typed right after the console opens was seen to vanish (no echo at all,
 * the guest's last output being the prompt), so the command is typed only once the shell is seen reading.
 */
async function shell(owner: Name, vm: string, command: string): Promise<string> {
  const ws = host(owner).client.openConsole(vm);
  let out = '';
  ws.on('message', (b: Buffer) => (out += b.toString()));
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  try {
    await until(`${vm}'s shell prompt`, limit('shell'), async () => {
      if (/guest# /.test(out)) return true;
      ws.send('\n');
      await new Promise((r) => setTimeout(r, 1_000));
      return /guest# /.test(out);
    });
    const tag = `ov${Date.now().toString(36)}`;
    ws.send(`x=${tag}; echo "BEGIN-$x"; ${command}; echo "END-$x"\n`);
    const re = new RegExp(`BEGIN-${tag}\\r?\\n([\\s\\S]*?)END-${tag}`);
    await until(`${vm} answers ${command}`, limit('shell'), () => re.test(out));
    return re.exec(out)![1]!.replace(/\r/g, '');
  } catch (e) {
    const c = host(owner).client;
    throw new Error(`${(e as Error).message}\n--- console:\n${out.slice(-1000)}\n--- ${vm} serial log:\n${(await c.serialLog(vm, 2000)).slice(-2000)}\n--- ${vm} state: ${(await c.getVm(vm)).state}`);
  } finally {
    ws.close();
  }
}

/** The guest's answer to a ping of `ip` (3 echo requests: ARP over a fresh overlay may lose the first). */
const pings = (owner: Name, vm: string, ip: string) => shell(owner, vm, `ping -c 3 -W 3 ${ip} >/dev/null 2>&1 && echo PING-OK || echo PING-FAIL`);
/** A 1472-byte payload: a 1500-byte IPv4 packet, past the overlay's 1450; only a guest that knows its MTU fragments it. */
const bigPings = (owner: Name, vm: string, ip: string) => shell(owner, vm, `ping -c 3 -W 3 -s 1472 ${ip} >/dev/null 2>&1 && echo PING-OK || echo PING-FAIL`);
/** Where a VM runs now, asked of any member. */
const ownerOf = async (vm: string): Promise<Name> => (await host('h1').client.getVm(vm)).host as Name;

beforeAll(async () => {
  etcdDir = mkdtempSync(path.join(os.tmpdir(), 'pv-overlay-etcd-'));
  shared = vmTempDir('overlay-shared'); // 0711: the HA guest's QEMU runs as its own user and passes through to its disk
  const { core } = await lab.fabricWithEtcd('fabric', '10.78.0.1', etcdDir, (t) => (etcdOut += t));
  for (const h of NAMES) {
    const ns = await lab.add(h);
    nsOf.set(h, ns);
    await lab.veth(ns, 'eth0', `${addrOf(h)}/24`, core, `v${h}`, null);
    await lab.exec(core, 'ip', ['link', 'set', `v${h}`, 'master', 'br0']);
  }
  await until(`etcd reachable from h1 (${etcdOut.slice(-300)})`, limit('daemon'), async () =>
    (await lab.exec(nsOf.get('h1')!, 'etcdctl', ['--endpoints', ETCD, '--command-timeout=1s', 'get', 'x'], true)).code === 0);
  await Promise.all(NAMES.map(async (h) => {
    const stateDir = tempStateDir(`overlay-${h}`);
    hosts.set(h, await startDaemon({ stateDir, netns: nsOf.get(h)!, extraArgs: argsOf(h) }));
  }));
  await ok('h1', ['cluster', 'init', '--etcd', ETCD, '--prefix', `/pv-overlay-${newUuid()}/`]);
  await restart('h1');
  for (const h of ['h2', 'h3'] as const) {
    const token = (JSON.parse(await ok('h1', ['cluster', 'token', 'create', '--ttl', '10m', '--json'])) as { token: string }).token;
    await ok(h, ['cluster', 'join', host('h1').url, '--token', token, '--fingerprint', fingerprintOf(host('h1'))]);
    await restart(h);
  }
}, 8 * limit('daemon'));

afterAll(async () => {
  const list = [...hosts.values()];
  await killClusterHosts(list, list.map((d) => d.stateDir));
  await lab.cleanup();
  if (etcdDir) rmSync(etcdDir, { recursive: true, force: true });
  if (shared) rmSync(shared, { recursive: true, force: true });
});

describe('a bridge network across cluster members (VXLAN overlay)', () => {
  it('one record and VNI on every member; guests on two members ping each other; one moves live to a third and keeps MAC, address and reachability', async () => {
    const made = await nets('h2').create({ name: 'ov', mode: 'bridge' });
    expect(made).toMatchObject({ name: 'ov', mode: 'bridge', uplink: null });
    const vni = made.vni!;
    expect(vni).toBeGreaterThanOrEqual(10_000);
    for (const h of NAMES) expect(await nets(h).show('ov')).toMatchObject({ name: 'ov', vni });

    for (const [vm, h, ip] of [['a1', 'h1', '10.79.0.11'], ['a2', 'h2', '10.79.0.12']] as const) {
      await host(h).client.createVm(guestSpec(vm, { memory: MEM, networks: [{ network: 'ov' }] } as never, `pv.ip=${ip}/24`));
      await host(h).client.action(vm, 'start');
    }
    await waitForLine(host('h1').client, 'a1', READY);
    await waitForLine(host('h2').client, 'a2', READY);

    // h1's side of the overlay: its VXLAN port on the bridge, flood entries for the two other members.
    const vx = `pvvx${vni}`;
    const link = await inNs('h1', 'ip', ['-d', 'link', 'show', 'dev', vx]);
    expect(link).toMatch(/mtu 1450 .*master pvbr-ov/);
    expect(link).toMatch(new RegExp(`vxlan id ${vni} local 10\\.78\\.0\\.11 .*dstport 4789`));
    await until('h1 floods to h2 and h3', limit('shell'), async () =>
      [...(await inNs('h1', 'bridge', ['fdb', 'show', 'dev', vx])).matchAll(/^00:00:00:00:00:00 dst (\S+)/gm)].map((m) => m[1]).sort().join() === '10.78.0.12,10.78.0.13');

    expect(await pings('h1', 'a1', '10.79.0.12')).toContain('PING-OK');
    expect(await pings('h2', 'a2', '10.79.0.11')).toContain('PING-OK');
    // The guests know the overlay's MTU (virtio host_mtu): full-size packets cross hosts, fragmented by the sender.
    expect((await shell('h1', 'a1', 'cat /sys/class/net/eth0/mtu')).trim()).toBe('1450');
    expect(await bigPings('h1', 'a1', '10.79.0.12')).toContain('PING-OK');
    const before = (await nets('h3').show('ov')).nics.find((n) => n.vm === 'a1')!;
    expect(before).toMatchObject({ ip: null });
    const macBefore = (await shell('h1', 'a1', 'cat /sys/class/net/eth0/address')).trim();
    expect(macBefore).toContain(before.mac);
    expect(await taps('h3')).toEqual([]);

    // a1 moves live h1 -> h3 (asked of h2: the owner h1 moves it).
    await ok('h2', ['vm', 'migrate', 'a1', '--to-host', 'h3', '--no-progress']);
    const moved = await host('h3').client.getVm('a1');
    expect(moved).toMatchObject({ host: 'h3', state: 'running' });
    expect(await taps('h1')).toEqual([]);
    expect(await taps('h3')).toEqual([before.tap]);
    expect((await nets('h1').show('ov')).nics.find((n) => n.vm === 'a1')).toEqual(before); // the shared allocation survived the move
    expect(await inNs('h3', 'ip', ['-d', 'link', 'show', 'dev', vx])).toMatch(new RegExp(`vxlan id ${vni} local 10\\.78\\.0\\.13 `));

    const after = await shell('h3', 'a1', 'cat /sys/class/net/eth0/address; ip -4 -o addr show dev eth0');
    expect(after).toContain(before.mac);
    expect(after).toContain('10.79.0.11/24');
    expect(await pings('h3', 'a1', '10.79.0.12')).toContain('PING-OK');
    const back = await pings('h2', 'a2', '10.79.0.11');
    expect(back).toContain('PING-OK');

    // Members leave and join: h2's daemon stops (a2 runs on, its lease runs out), h3 drops h2 from its flood list;
    // h2 starts again and rejoins, h3 floods to it again and a1 reaches a2 again.
    const floods = async (h: Name) => [...(await inNs(h, 'bridge', ['fdb', 'show', 'dev', vx])).matchAll(/^00:00:00:00:00:00 dst (\S+)/gm)].map((m) => m[1]).sort().join();
    expect(await floods('h3')).toBe('10.78.0.11,10.78.0.12');
    await host('h2').stop();
    await until('h3 stops flooding to h2 once its lease ran out', limit('daemon', 3), async () => (await floods('h3')) === '10.78.0.11');
    hosts.set('h2', await startDaemon({ stateDir: host('h2').stateDir, netns: nsOf.get('h2')!, extraArgs: argsOf('h2') }));
    await until('h3 floods to h2 again after it rejoined', limit('daemon', 3), async () => (await floods('h3')) === '10.78.0.11,10.78.0.12');
    expect(await pings('h3', 'a1', '10.79.0.12')).toContain('PING-OK');
  }, 2 * limit('boot') + limit('operation') + limit('shell', 10) + limit('daemon', 8));

  it('`host drain` of a guest\'s member moves it live over the overlay: same MAC, address and allocation, reachable from another member', async () => {
    const from = await ownerOf('a1'); // h3 after the first case
    const alloc = (await nets('h1').show('ov')).nics.find((n) => n.vm === 'a1')!;
    // h2 (a2's member) is cordoned so the drain must take a1 to h1: the pings below then cross hosts.
    await ok('h1', ['host', 'cordon', 'h2']);
    const out = await ok('h1', ['host', 'drain', from]);
    expect(out).toContain('a1: live-migrate -> h1: done');
    expect(out.trim().split('\n').pop()).toBe(`${from}: drained`);
    expect(await host('h1').client.getVm('a1')).toMatchObject({ host: 'h1', state: 'running' });
    expect(await taps(from)).toEqual([]);
    expect(await taps('h1')).toEqual([alloc.tap]);
    expect((await nets('h2').show('ov')).nics.filter((n) => n.vm === 'a1')).toEqual([alloc]); // one allocation, unchanged
    const seen = await shell('h1', 'a1', 'cat /sys/class/net/eth0/address /sys/class/net/eth0/mtu; ip -4 -o addr show dev eth0');
    expect(seen).toContain(alloc.mac);
    expect(seen).toContain('10.79.0.11/24');
    expect(seen).toMatch(/^1450$/m);
    expect(await pings('h2', 'a2', '10.79.0.11')).toContain('PING-OK');
    expect(await bigPings('h1', 'a1', '10.79.0.12')).toContain('PING-OK');
    await ok('h1', ['host', 'uncordon', from]);
    await ok('h1', ['host', 'uncordon', 'h2']);
  }, limit('operation') + limit('shell', 6) + limit('daemon'));

  it('an HA guest on the overlay whose member crashes runs again on another member with the same MAC, address and allocation; the crashed member\'s restart keeps it', async () => {
    // ha1 runs on h3 (drained and uncordoned: it has no guest), its disk on the shared folder.
    const disk = path.join(shared, 'ha1.raw');
    const fd = openSync(disk, 'w');
    ftruncateSync(fd, 4 * 1024 * 1024);
    closeSync(fd);
    await host('h3').client.createVm(guestSpec('ha1', {
      memory: MEM, ha: true, networks: [{ network: 'ov' }], disks: [{ name: 'data', path: disk, format: 'raw' }],
    } as never, 'pv.ip=10.79.0.13/24'));
    await host('h3').client.action('ha1', 'start');
    await waitForLine(host('h3').client, 'ha1', READY);
    const first = await host('h3').client.getVm('ha1');
    expect(first.host).toBe('h3');
    const alloc = (await nets('h3').show('ov')).nics.find((n) => n.vm === 'ha1')!;
    expect(await taps('h3')).toEqual([alloc.tap]);
    expect(await pings('h2', 'a2', '10.79.0.13')).toContain('PING-OK');

    // h2 is cordoned (no HA restart there): ha1 must come back on h1, so a2 reaches it across hosts.
    await ok('h1', ['host', 'cordon', 'h2']);
    // Crash: h3's daemon and ha1's QEMU die at once (as test/ha-cluster does).
    await host('h3').kill9();
    process.kill(first.runtime!.pid, 'SIGKILL');
    let now = first;
    await until('ha1 runs again on h1', limit('boot') + limit('daemon', 4), async () => {
      now = (await host('h1').client.getVm('ha1').catch(() => undefined)) ?? now;
      return now.host === 'h1' && now.state === 'running' && now.runtime?.pid !== first.runtime!.pid;
    }).catch((err: Error) => {
      throw new Error(`${err.message}; ha1 last seen ${now.state} on ${now.host} (${now.stateReason})`);
    });
    expect(now.stateReason).toMatch(/HA: restarted on h1 after host h3 was lost/);
    await ok('h1', ['host', 'uncordon', 'h2']);
    await waitForLine(host('h1').client, 'ha1', READY);
    expect((await nets('h1').show('ov')).nics.filter((n) => n.vm === 'ha1')).toEqual([alloc]);
    expect(await taps('h1')).toContain(alloc.tap);
    const seen = await shell('h1', 'ha1', 'cat /sys/class/net/eth0/address /sys/class/net/eth0/mtu; ip -4 -o addr show dev eth0');
    expect(seen).toContain(alloc.mac);
    expect(seen).toContain('10.79.0.13/24');
    expect(seen).toMatch(/^1450$/m);
    expect(await pings('h2', 'a2', '10.79.0.13')).toContain('PING-OK');
    expect(await bigPings('h1', 'ha1', '10.79.0.12')).toContain('PING-OK');

    // h3 starts again: its leftover tap of ha1 goes (reconcile), and the allocation stays ha1's, on h1.
    hosts.set('h3', await startDaemon({ stateDir: host('h3').stateDir, netns: nsOf.get('h3')!, extraArgs: argsOf('h3') }));
    await until('h3 removed its leftover tap', limit('daemon'), async () => (await taps('h3')).length === 0);
    expect((await nets('h3').show('ov')).nics.filter((n) => n.vm === 'ha1')).toEqual([alloc]);
    expect(await host('h3').client.getVm('ha1')).toMatchObject({ host: 'h1', state: 'running' });
    expect(await pings('h1', 'ha1', '10.79.0.12')).toContain('PING-OK');
  }, 2 * limit('boot') + limit('daemon', 8) + limit('shell', 8));
});
