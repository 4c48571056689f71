/**
 * A real partition: etcd (one member) and two host agents each in a network
 * namespace of their own, joined by a bridge in a third (test/helpers/netns.ts;
 * the addresses live only in those namespaces). h1 runs an HA guest whose run
 * log (test/helpers/run-log.ts) is on a raw disk in the shared vmsDir. Taking
 * h1's link down cuts it off: its lease cannot be renewed, its watchdog kills
 * the guest, and h2 restarts it once the lease expired plus the fence margin.
 * When the link comes back h1 rejoins with a new lease and leaves the guest to
 * h2. The run log shows two runs, h1 then h2, never at once; no QEMU of the
 * guest ever ran twice (sampled from /proc).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostClient } from '../src/client/index.js';
import { newUuid } from '../src/shared/index.js';
import type { VmView } from '../src/spec/index.js';
import { killClusterHosts } from './helpers/cluster-hosts.js';
import { processesUnder, startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { limit } from './helpers/limits.js';
import { NetnsLab } from './helpers/netns.js';
import { readRunLog, runsOf, startRunLog } from './helpers/run-log.js';
import { guestSpec, READY, waitForLine } from './helpers/vm.js';

const lab = new NetnsLab();
const hosts = new Map<string, TestDaemon>();
const nsOf = new Map<string, string>();
let shared: string;
let etcdDir: string;
let sampler: NodeJS.Timeout | undefined;
let most = 0;
let etcdOut = '';

/** QEMU processes of guest p1 running now (not zombies). */
function p1Qemus(): number {
  let n = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (/\) Z /.test(readFileSync(`/proc/${entry}/stat`, 'utf8'))) continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.includes('qemu-system') && argv.some((a) => / pv\.name=p1( |$)/.test(a)) && argv.some((a) => a.includes(shared))) n++;
    } catch {
      /* gone */
    }
  }
  return n;
}

async function until(what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  for (const end = Date.now() + ms; !(await check());) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  shared = mkdtempSync(path.join(os.tmpdir(), 'pv-part-shared-'));
  etcdDir = mkdtempSync(path.join(os.tmpdir(), 'pv-part-etcd-'));
  const { core } = await lab.fabricWithEtcd('core', '10.77.0.1', etcdDir, (t) => (etcdOut += t));
  const prefix = `/pv-part-${newUuid()}/`;
  for (const [i, name] of ['h1', 'h2'].entries()) {
    const ns = await lab.add(name);
    nsOf.set(name, ns);
    await lab.veth(ns, 'eth0', `10.77.0.${11 + i}/24`, core, `v${name}`, null);
    await lab.exec(core, 'ip', ['link', 'set', `v${name}`, 'master', 'br0']);
    const dir = tempStateDir(`part-${name}`);
    const file = path.join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ vmsDir: shared, store: { kind: 'etcd', endpoints: ['http://10.77.0.1:2379'], prefix, timeoutMs: 3000, leaseTtlSeconds: 3 } }));
    // etcd answers once it is up; the daemon needs it at start.
    await until(`etcd reachable from ${name} (${etcdOut.slice(-300)})`, limit('daemon'), async () => (await lab.exec(ns, 'etcdctl', ['--endpoints', 'http://10.77.0.1:2379', '--command-timeout=1s', 'get', 'x'], true)).code === 0);
    hosts.set(name, await startDaemon({ stateDir: dir, netns: ns, extraArgs: ['--config', file, '--host-name', name] }));
  }
  sampler = setInterval(() => { most = Math.max(most, p1Qemus()); }, 100);
}, 4 * limit('daemon'));

afterAll(async () => {
  clearInterval(sampler);
  await killClusterHosts([...hosts.values()], [...hosts.values()].map((d) => d.stateDir));
  await lab.cleanup();
  if (shared) rmSync(shared, { recursive: true, force: true });
  if (etcdDir) rmSync(etcdDir, { recursive: true, force: true });
});

describe('HA across a network partition', () => {
  it('a cut-off host fences its HA guest, the other host restarts it, the healed host rejoins and leaves it there', async () => {
    const h1 = hosts.get('h1')!;
    const h2 = hosts.get('h2')!;
    await h1.client.createVm(guestSpec('p1', { ha: true, disks: [{ name: 'hblog', size: '4Mi', format: 'raw' }] }));
    await h1.client.action('p1', 'start');
    await waitForLine(h1.client, 'p1', READY);
    const first = await h1.client.getVm('p1');
    const pid1 = first.runtime!.pid;
    const image = path.join(shared, first.id, 'disks', 'hblog.raw');
    await startRunLog(h1.client, 'p1', 'h1');
    await until('three records from h1', limit('shell'), () => readRunLog(image).filter((r) => r.host === 'h1').length >= 3);

    // Partition: h1's only link goes down.
    await lab.exec(nsOf.get('h1')!, 'ip', ['link', 'set', 'eth0', 'down']);
    let moved: VmView | undefined;
    await until('p1 runs on h2', limit('boot') + limit('daemon'), async () => {
      const v = await h2.client.getVm('p1').catch(() => undefined);
      if (v?.host === 'h2' && v.state === 'running' && v.runtime && v.runtime.pid !== pid1) moved = v;
      return moved !== undefined;
    });
    // The watchdog logs what it killed once the process is gone and its note written: wait for the line.
    const wdLog = (): string => { try { return readFileSync(path.join(h1.stateDir, 'watchdog.log'), 'utf8'); } catch { return ''; } };
    await until('h1\'s watchdog logs its fence', limit('state'), () => /fenced: /.test(wdLog()));
    expect(wdLog()).toMatch(new RegExp(`killed p1 \\(pid ${pid1}\\)`));
    await waitForLine(h2.client, 'p1', READY);
    await startRunLog(h2.client, 'p1', 'h2');
    await until('three records from h2', limit('shell'), () => readRunLog(image).filter((r) => r.host === 'h2').length >= 3);

    // Heal: h1 rejoins with a new lease and does not take the guest back.
    await lab.exec(nsOf.get('h1')!, 'ip', ['link', 'set', 'eth0', 'up']);
    const hostsOf = new HostClient({ endpoint: { socketPath: h2.socket } });
    await until('h1 ready again', limit('daemon', 3), async () => {
      const list = await hostsOf.list().catch(() => []);
      return list.map((h) => `${h.name}:${h.state}`).join(' ') === 'h1:ready h2:ready';
    });
    expect(wdLog().match(/guarding the HA VMs/g)?.length).toBe(2);
    const after = await h1.client.getVm('p1');
    expect(after).toMatchObject({ host: 'h2', state: 'running' });
    expect(after.runtime!.pid).toBe(moved!.runtime!.pid);
    expect(processesUnder(h1.stateDir)).toEqual([]);
    await until('h2 goes on writing', limit('shell'), () => readRunLog(image).filter((r) => r.host === 'h2').length >= 6);
    const runs = runsOf(readRunLog(image));
    expect(runs.map((r) => r.host)).toEqual(['h1', 'h2']);
    expect(most).toBe(1);
  }, 3 * limit('boot') + 6 * limit('daemon'));
});
