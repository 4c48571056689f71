/**
 * Issue 18, live moves carry the NICs: two hosts are two network namespaces
 * this test creates, linked by a veth pair (10.231.7.1 and .2), each with its
 * own daemon listening on its end and its own NAT network `pvm` (same name,
 * same subnet: each daemon owns its bridge, dnsmasq and rules, as two real
 * hosts would). A guest on `pvm` moves live from a to b and keeps its MAC and
 * its address and still pings the gateway; b's network holds its
 * reservation and tap, a's tap and rules are gone. A VM on a network b does
 * not have is refused before anything starts on b, naming the network.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationClient, NetworkClient, PlatformClient } from '../src/client/index.js';
import { isPolyvisorError } from '../src/shared/index.js';
import { killQemusUnder, startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { limit } from './helpers/limits.js';
import { NetnsLab } from './helpers/netns.js';
import { guestShell } from './helpers/shell.js';
import { READY, guestSpec, waitForLine } from './helpers/vm.js';

const lab = new NetnsLab();
const GW = '10.123.31.1';
/** Not a multiple of 256 KiB (FACTS: QEMU 7.2's TCG dirty-page bug). */
const MEM = '130820Ki';
let nsA = '';
let nsB = '';
let a: TestDaemon;
let b: TestDaemon;
const dirs: string[] = [];
const nets = (d: TestDaemon): NetworkClient => new NetworkClient({ endpoint: { socketPath: d.socket } });
const taps = async (ns: string): Promise<string[]> => (await lab.exec(ns, 'ip', ['-o', 'link'])).stdout.match(/pvt-[0-9a-z]+/g) ?? [];

beforeAll(async () => {
  nsA = await lab.add('hosta');
  nsB = await lab.add('hostb');
  await lab.veth(nsA, 'pvtest-a', '10.231.7.1/24', nsB, 'pvtest-b', '10.231.7.2/24');
  const start = (ns: string, addr: string, host: string) => {
    const stateDir = tempStateDir(host);
    dirs.push(stateDir);
    return startDaemon({ stateDir, netns: ns, extraArgs: ['--listen', `${addr}:0`, '--host-name', host], env: { POLYVISOR_DEFAULT_NETWORK: '0' } });
  };
  [a, b] = await Promise.all([start(nsA, '10.231.7.1', 'host-a'), start(nsB, '10.231.7.2', 'host-b')]);
  for (const d of [a, b]) await nets(d).create({ name: 'pvm', mode: 'nat', subnet: '10.123.31.0/24' });
  await nets(a).create({ name: 'pvo', mode: 'isolated', subnet: '10.123.32.0/24' });
}, limit('daemon', 2) + 30_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  for (const d of dirs) killQemusUnder(d);
  await lab.cleanup();
});

/** Each daemon listens on its namespace's address, beyond loopback, so it serves HTTPS (tls: auto); the source pins the target's certificate. */
function fingerprintOf(d: TestDaemon): string {
  const info = JSON.parse(readFileSync(path.join(d.stateDir, 'daemon.json'), 'utf8')) as { tlsFingerprint: string | null };
  if (!info.tlsFingerprint) throw new Error(`${d.url} does not serve TLS`);
  return info.tlsFingerprint;
}

describe('live moves carry NICs on virtual networks', () => {
  it('a target without the network refuses before anything starts there, naming it and how to make it', async () => {
    await a.client.createVm(guestSpec('mo', { memory: MEM, networks: [{ network: 'pvo' }] } as never));
    const token = (await new PlatformClient({ endpoint: { socketPath: b.socket } }).createToken('from-a-1', 'peer')).token;
    const err = await new MigrationClient({ endpoint: { socketPath: a.socket } }).migrate('mo', { target: { url: b.url, token, tlsFingerprint: fingerprintOf(b) } }).catch((e: unknown) => e);
    expect(isPolyvisorError(err, 'MIGRATION_INCOMPATIBLE')).toBe(true);
    expect((err as Error).message).toMatch(/no network pvo \(used by NIC net0\)/);
    expect((err as { hint: string }).hint).toContain('polyvisor network create pvo');
    expect(await b.client.listVms()).toEqual([]);
    expect(await taps(nsB)).toEqual([]);
    expect((await a.client.getVm('mo')).state).toBe('created');
    await a.client.removeVm('mo');
  }, limit('operation'));

  it('a guest on a NAT network moves live: same MAC and address, pings the gateway there; a\'s tap goes, b\'s takes over', async () => {
    await a.client.createVm(guestSpec('mv', { memory: MEM, networks: [{ network: 'pvm' }] } as never, 'pv.net=dhcp'));
    await a.client.action('mv', 'start');
    await waitForLine(a.client, 'mv', READY);
    await guestShell(a.client, 'mv', 'ip -4 -o addr show dev eth0 | grep -q inet || udhcpc -i eth0 -n -q -t 10 -T 2 -s /usr/share/udhcpc/default.script >/dev/null 2>&1');
    const before = (await nets(a).show('pvm')).nics.find((n) => n.vm === 'mv')!;
    expect(await guestShell(a.client, 'mv', 'ip -4 -o addr show dev eth0')).toContain(`${before.ip}/24`);
    expect(await taps(nsA)).toEqual([before.tap]);

    const token = (await new PlatformClient({ endpoint: { socketPath: b.socket } }).createToken('from-a-2', 'peer')).token;
    const r = await new MigrationClient({ endpoint: { socketPath: a.socket } }).migrate('mv', { target: { url: b.url, token, tlsFingerprint: fingerprintOf(b) } })
      .catch((err: Error) => {
        // Seen once in a clean-clone run (the target QEMU exited during the move, not reproduced since): the daemons'
        // migration and QEMU lines go with the failure.
        const said = [a, b].map((d, i) => `${'ab'[i]}: ${d.log().split('\n').filter((l) => /migrat|qemu|gate|incoming|tap/i.test(l) && !/incoming request|request completed/.test(l)).slice(-30).join('\n')}`);
        throw new Error(`${err.message}\n${said.join('\n')}`);
      });
    expect(r).toMatchObject({ vm: 'mv', state: 'running' });

    const after = (await nets(b).show('pvm')).nics.find((n) => n.vm === 'mv')!;
    expect(after).toMatchObject({ mac: before.mac, ip: before.ip });
    expect(await taps(nsB)).toEqual([after.tap]);
    expect(await taps(nsA)).toEqual([]);
    expect((await nets(a).show('pvm')).nics).toEqual([]);
    expect(await guestShell(b.client, 'mv', 'cat /sys/class/net/eth0/address; ip -4 -o addr show dev eth0')).toMatch(new RegExp(`${before.mac}[\\s\\S]*${before.ip!.replace(/\./g, '\\.')}/24`));
    expect(await guestShell(b.client, 'mv', `ping -c 2 -W 3 ${GW} >/dev/null 2>&1 && echo PING-OK`)).toContain('PING-OK');
    // Its address stays its own on b: the spec there reserves it.
    expect((await b.client.getVm('mv')).spec.networks[0]).toMatchObject({ network: 'pvm', ip: before.ip });
  }, limit('boot') + limit('operation') + limit('shell', 4));
});
