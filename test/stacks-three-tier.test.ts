/**
 * examples/stacks/three-tier.yaml on real networks (issue 21): the daemon
 * runs inside a network namespace this test creates (its bridges, dnsmasq,
 * nftables and QEMU with it; nothing in the runner's own namespace). The
 * example file is used as written — its networks (front nat, back isolated),
 * volume, members, depends_on and readiness conditions — with three changes
 * the test states: the VMs boot the test guest instead of the user's disk
 * image (`disks` swapped for `boot`), their memory and ports are given as
 * the example's variables (128Mi; port 80, where the test guest's httpd
 * listens), and concurrency is 1 (two TCG guests booting at once on two
 * busy cores can miss the guest's 5 s DHCP window).
 *
 * Shown: the stack comes up in dependency order (db's port answers on its
 * reserved back-end address before the app servers are made; both app
 * servers ready before the load balancer is made), an app server reaches the
 * database over the isolated back network, and destroy removes the stack's
 * VMs, its volume and both networks (bridges and nft rules) while a VM and a
 * network outside the stack stay.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { NetworkClient, PlatformClient, StackClient, StorageClient } from '../src/client/index.js';
import type { EventView } from '../src/spec/index.js';
import { killQemusUnder, startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { runCli } from './helpers/http.js';
import { limit } from './helpers/limits.js';
import { NetnsLab } from './helpers/netns.js';
import { guestShell } from './helpers/shell.js';
import { guestSpec } from './helpers/vm.js';

const EXAMPLE = path.resolve(import.meta.dirname, '..', 'examples', 'stacks', 'three-tier.yaml');
const lab = new NetnsLab();
let ns = '';
let stateDir = '';
let d: TestDaemon;
let file = '';
const events: EventView[] = [];
const stopEvents = new AbortController();
const VARS = ['--var', 'image=unused', '--var', 'db_memory=128Mi', '--var', 'app_memory=128Mi', '--var', 'lb_memory=128Mi', '--var', 'db_port=80', '--var', 'app_port=80'];

/** The example with the test guest's kernel boot instead of the disk image, and concurrency 1. */
function testCopy(): string {
  const doc = parse(readFileSync(EXAMPLE, 'utf8')) as { concurrency?: number; vms: Record<string, { spec: Record<string, unknown> }> };
  doc.concurrency = 1;
  for (const [member, m] of Object.entries(doc.vms)) {
    delete m.spec['disks'];
    m.spec['boot'] = guestSpec(member, {}, 'pv.net=dhcp').boot;
  }
  const out = path.join(stateDir, 'three-tier.yaml');
  writeFileSync(out, stringify(doc));
  return out;
}

const nft = async (): Promise<string> => (await lab.exec(ns, 'nft', ['list', 'ruleset'])).stdout;
const links = async (): Promise<string> => (await lab.exec(ns, 'ip', ['-o', 'link'])).stdout;

beforeAll(async () => {
  ns = await lab.add('stack');
  stateDir = tempStateDir('stack3');
  d = await startDaemon({ stateDir, netns: ns, env: { POLYVISOR_DEFAULT_NETWORK: '0' } });
  void new PlatformClient({ endpoint: { socketPath: d.socket } }).followEvents((e) => events.push(e), { signal: stopEvents.signal }).catch(() => undefined);
  file = testCopy();
  // Outside the stack: a network and a VM on it; destroy must leave both.
  await new NetworkClient({ endpoint: { socketPath: d.socket } }).create({ name: 'other', mode: 'isolated', subnet: '10.88.0.0/24' });
  await d.client.createVm(guestSpec('outsider', { networks: [{ network: 'other' }] } as never));
}, limit('daemon') + 30_000);

afterAll(async () => {
  stopEvents.abort();
  await d?.stop();
  if (stateDir) killQemusUnder(stateDir);
  await lab.cleanup();
});

describe('the three-tier example on real networks, in a namespace', () => {
  it('comes up in dependency order: networks and volume, db (its port answers), the app servers, the load balancer', async () => {
    const r = await runCli(['--socket', d.socket, 'up', file, ...VARS, '--yes']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    for (const line of ['+   network back: create', '+   network front: create', '+   volume dbdata: create', '+   vm db: create', '+   vm shop-app-1 (member app): create', '+   vm lb: create']) {
      expect(r.stdout).toContain(line);
    }
    // vm.state events give the order: each tier was made after the one it depends on ran (and was ready).
    const seq = events.flatMap((e) => (e.type === 'vm.state' ? [`${e.vm}:${e.to}`] : []));
    const at = (x: string): number => seq.indexOf(x);
    expect(at('db:running'), seq.join(' ')).toBeGreaterThanOrEqual(0);
    for (const app of ['shop-app-1', 'shop-app-2']) {
      expect(at(`${app}:created`), seq.join(' ')).toBeGreaterThan(at('db:running'));
      expect(at('lb:created'), seq.join(' ')).toBeGreaterThan(at(`${app}:running`));
    }
    const status = await new StackClient({ endpoint: { socketPath: d.socket } }).status('shop');
    const byName = Object.fromEntries(status.members.map((m) => [m.name, m]));
    expect(byName['db']).toMatchObject({ state: 'running', address: '10.77.0.10', readiness: 'ready' });
    for (const n of ['shop-app-1', 'shop-app-2', 'lb']) expect(byName[n]).toMatchObject({ state: 'running', readiness: 'ready' });
    expect(byName['back']).toMatchObject({ kind: 'network', state: 'present', address: '10.77.0.0/24' });
    expect(byName['front']).toMatchObject({ kind: 'network', state: 'present' });
    expect(byName['dbdata']).toMatchObject({ kind: 'volume', state: 'present' });
    expect((await d.client.getVm('lb')).spec.labels).toEqual({ app: 'shop', 'polyvisor.stack': 'shop', 'polyvisor.stack.member': 'lb' });
    // Real plumbing: both bridges exist in the namespace, and an app server reaches the database over the isolated back network.
    expect(await links()).toMatch(/pvbr-back[\s\S]*pvbr-front|pvbr-front[\s\S]*pvbr-back/);
    // (busybox nc: the test guest's static busybox wget crashes with a segmentation fault.)
    expect(await guestShell(d.client, 'shop-app-1', 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 5 10.77.0.10 80')).toContain('polyvisor-guest db');
  }, limit('boot', 6));

  it('destroy removes the stack\'s VMs, volume and networks (bridges and rules), and nothing else', async () => {
    const r = await runCli(['--socket', d.socket, 'stack', 'destroy', 'shop', '--yes']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect((await d.client.listVms()).map((v) => v.name)).toEqual(['outsider']);
    const nets = await new NetworkClient({ endpoint: { socketPath: d.socket } }).list();
    expect(nets.map((n) => n.name)).toEqual(['other']);
    const vols = await new StorageClient({ endpoint: { socketPath: d.socket } }).listVolumes('default');
    expect(vols.map((v) => (v as { name: string }).name)).not.toContain('dbdata');
    const l = await links();
    expect(l).not.toMatch(/pvbr-back|pvbr-front/);
    expect(l).toContain('pvbr-other');
    const rules = await nft();
    for (const gone of ['10.77.0.', 'pvbr-back', 'pvbr-front']) expect(rules).not.toContain(gone);
    expect(await new StackClient({ endpoint: { socketPath: d.socket } }).list()).toEqual([]);
  }, limit('operation', 2));
});
