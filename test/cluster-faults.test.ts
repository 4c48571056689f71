/**
 * Cluster faults not shown elsewhere (issue 19), with real parts: a
 * three-member etcd (scripts/etcd.sh) and two daemons made a cluster by
 * `cluster init` and `cluster join` (h1 on 127.0.0.1, h2 on 127.0.0.2, so
 * writes can be forwarded), both with their VM directories on one shared
 * folder, and the busybox test guest under QEMU (TCG).
 *
 * - The etcd Raft leader is SIGKILLed while `vm create --host auto` runs
 *   (sent to either member, so some creates are forwarded): several rounds,
 *   the kill a little later each time. Each create either answers with its
 *   VM or fails with STORE_UNAVAILABLE; then the VM has exactly one record
 *   (or none after a failure), its directory exists exactly when its record
 *   does (no orphan directory, no record without files), and a retried
 *   create works. The member restarts before the next round.
 * - Quorum is lost (two members killed) while h1 runs a plain guest and an
 *   HA guest; the plain guest's QEMU is killed during the outage (its exit
 *   cannot be written then). With quorum back its record becomes `stopped`
 *   (no runtime), not `running` with no QEMU, and it starts again; the HA
 *   guest, fenced by h1's watchdog, runs again on h1 with a new QEMU (quorum
 *   returns here right after the fence, so its exit may be recorded as a
 *   plain stop before h1 rejoins: the rejoin restarts it anyway) and never
 *   has two QEMUs.
 * - A host cut from its peers but not from etcd (second describe).
 *
 * A sampler reads /proc every 100 ms and counts each guest's QEMU processes
 * (`pv.name=` on the kernel command line, disks in the shared folder): no
 * guest ever has two.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostClient } from '../src/client/index.js';
import { PolyvisorError, newUuid } from '../src/shared/index.js';
import type { VmView } from '../src/spec/index.js';
import { killClusterHosts } from './helpers/cluster-hosts.js';
import { killQemusUnder, startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { startEtcd, type TestEtcd } from './helpers/etcd.js';
import { runCli } from './helpers/http.js';
import { limit } from './helpers/limits.js';
import { NetnsLab } from './helpers/netns.js';
import { qemuProcesses } from './helpers/qemu-proc.js';
import { guestSpec, READY, waitForLine } from './helpers/vm.js';

let etcd: TestEtcd;
let shared: string;
/** Shared VM folders of this file's clusters (the sampler counts QEMUs whose disks are there). */
const roots: string[] = [];
const hosts: Record<'h1' | 'h2', TestDaemon> = {} as Record<'h1' | 'h2', TestDaemon>;
const stateDirs: string[] = [];
const ARGS = { h1: ['--host-name', 'h1'], h2: ['--host-name', 'h2', '--listen', '127.0.0.2:0'] };

/** The most QEMU processes seen at once per guest name, sampled every 100 ms. */
const mostAtOnce = new Map<string, number>();
let sampler: NodeJS.Timeout | undefined;
function sampleQemus(): void {
  const now = new Map<string, number>();
  for (const q of qemuProcesses()) {
    const name = /(?:^| )pv\.name=(\S+)/.exec(q.argv.find((a) => a.includes('pv.name=')) ?? '')?.[1];
    if (name && q.argv.some((a) => roots.some((r) => a.includes(r)))) now.set(name, (now.get(name) ?? 0) + 1);
  }
  for (const [name, n] of now) mostAtOnce.set(name, Math.max(mostAtOnce.get(name) ?? 0, n));
}

async function until(what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  for (const end = Date.now() + ms; !(await check());) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const cli = async (d: TestDaemon, args: string[]): Promise<string> => {
  const r = await runCli(['--socket', d.socket, ...args]);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};

/** Every VM record of the cluster, read through `via` once the store answers again. */
async function allVms(via: TestDaemon): Promise<VmView[]> {
  let out: VmView[] | undefined;
  await until('the store answers a list', limit('state'), async () => {
    out = await via.client.listVms({ allHosts: true }).catch(() => undefined);
    return out !== undefined;
  });
  return out!;
}

/** The shared folder holds a directory for exactly the VMs that have a record, no other. */
function checkDirsMatch(vms: VmView[]): void {
  const dirs = readdirSync(shared).filter((e) => !e.startsWith('.')).sort();
  expect(dirs, 'VM directories in the shared folder vs the cluster\'s VM records').toEqual(vms.map((v) => v.id).sort());
  for (const v of vms) expect(existsSync(path.join(shared, v.id, 'disks')), `${v.name}'s disks`).toBe(true);
}

beforeAll(() => {
  sampler = setInterval(sampleQemus, 100);
});
afterAll(() => clearInterval(sampler));

describe('cluster faults on a three-member etcd', () => {
  beforeAll(async () => {
    etcd = await startEtcd(3, 'faults');
    shared = mkdtempSync(path.join(os.tmpdir(), 'pv-faults-shared-'));
    roots.push(shared);
    for (const name of ['h1', 'h2'] as const) {
      const dir = tempStateDir(`faults-${name}`);
      stateDirs.push(dir);
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ vmsDir: shared }));
      hosts[name] = await startDaemon({ stateDir: dir, extraArgs: ['--config', path.join(dir, 'config.json'), ...ARGS[name]] });
    }
    const restart = async (name: 'h1' | 'h2') => {
      const d = hosts[name];
      await d.stop();
      hosts[name] = await startDaemon({ stateDir: d.stateDir, extraArgs: ['--config', path.join(d.stateDir, 'config.json'), ...ARGS[name]] });
    };
    await cli(hosts.h1, ['cluster', 'init', '--etcd', etcd.endpoints.join(','), '--prefix', `/pv-faults-${newUuid()}/`]);
    await restart('h1');
    const join = (JSON.parse(await cli(hosts.h1, ['cluster', 'token', 'create', '--ttl', '10m', '--json'])) as { token: string }).token;
    await cli(hosts.h2, ['cluster', 'join', hosts.h1.url, '--token', join]);
    await restart('h2');
  }, 6 * limit('daemon'));

  afterAll(async () => {
    await killClusterHosts([hosts.h1, hosts.h2], stateDirs);
    if (shared) killQemusUnder(shared); // the VMs live in the shared folder, not the state folders (a failed case left q1 running)
    etcd?.stop();
    if (shared) rmSync(shared, { recursive: true, force: true });
  });

  it('the etcd leader killed during placements: each VM is placed once or not at all, nothing half-written, a retry works', async () => {
    const outcomes: string[] = [];
    // The kill lands at these fractions of an undisturbed create's time, measured just before: from the placement's
    // reads to the record's write (the last step) and just after it.
    const at = [0.3, 0.6, 0.8, 0.9, 0.95, 1.0, 1.05, 1.2];
    for (let round = 0; round < at.length; round++) {
      const name = `pl${round}`;
      const via = round % 2 === 0 ? hosts.h1 : hosts.h2; // the other member forwards when the scheduler picks the first
      const spec = { name, memory: '64Mi', disks: [{ name: 'root', size: '4Mi' }] };
      const t0 = Date.now();
      await via.client.createVm({ ...spec, name: `pt${round}` }, { host: 'auto' });
      const took = Date.now() - t0;
      const lead = etcd.leader();
      const leadPid = etcd.pid(lead)!;
      const create = via.client.createVm(spec, { host: 'auto' }).then((v) => v, (e: unknown) => e);
      await sleep(Math.round(took * at[round]!));
      process.kill(leadPid, 'SIGKILL');
      const got = await create;
      let placed: VmView;
      if (got instanceof Error) {
        expect(got, String(got)).toBeInstanceOf(PolyvisorError);
        expect((got as PolyvisorError).code, got.message).toBe('STORE_UNAVAILABLE');
        const vms = await allVms(via);
        const same = vms.filter((v) => v.name === name);
        expect(same.length, `${name}: records after a failed create`).toBeLessThanOrEqual(1);
        checkDirsMatch(vms);
        if (same.length === 1) {
          // The write reached etcd although the answer was lost: the VM is whole; a retry says it exists.
          outcomes.push(`${at[round]}x${took}ms:failed-but-written`);
          await expect(via.client.createVm(spec, { host: 'auto' })).rejects.toMatchObject({ code: 'VM_EXISTS' });
          placed = same[0]!;
        } else {
          outcomes.push(`${at[round]}x${took}ms:failed`);
          placed = await via.client.createVm(spec, { host: 'auto' }); // the retry (a leader is elected by now)
        }
      } else {
        outcomes.push(`${at[round]}x${took}ms:created`);
        placed = got as VmView;
      }
      const vms = await allVms(via);
      const same = vms.filter((v) => v.name === name);
      expect(same.map((v) => [v.id, v.host, v.state])).toEqual([[placed.id, placed.host, 'created']]);
      expect(['h1', 'h2']).toContain(placed.host);
      checkDirsMatch(vms);
      etcd.restart(lead);
      await until(`member ${lead} back`, limit('daemon'), () => etcd.pid(lead) !== null && alive(etcd.pid(lead)!));
    }
    console.log(`placement rounds (kill at a fraction of an undisturbed create): ${outcomes.join(' ')}`);
    for (let round = 0; round < at.length; round++) for (const n of [`pl${round}`, `pt${round}`]) await hosts.h1.client.removeVm(n);
    checkDirsMatch(await allVms(hosts.h1));
  }, 8 * (limit('state') + limit('daemon')));

  it('a plain VM whose QEMU exits during quorum loss is recorded stopped when quorum returns; the HA VM never runs twice', async () => {
    const h1 = hosts.h1;
    await h1.client.createVm(guestSpec('n1'), { host: 'h1' });
    await h1.client.createVm(guestSpec('q1', { ha: true }), { host: 'h1' });
    for (const n of ['n1', 'q1']) await h1.client.action(n, 'start');
    for (const n of ['n1', 'q1']) await waitForLine(h1.client, n, READY);
    const nPid = (await h1.client.getVm('n1')).runtime!.pid;
    const qPid = (await h1.client.getVm('q1')).runtime!.pid;

    // Lose quorum: two of the three members, the Raft leader among them.
    const lead = etcd.leader();
    const other = [0, 1, 2].find((i) => i !== lead)!;
    etcd.kill(lead);
    etcd.kill(other);
    await expect(h1.client.createVm(guestSpec('w1'))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    // The plain guest's QEMU dies while nothing can be written.
    process.kill(nPid, 'SIGKILL');
    await until('n1\'s QEMU gone', limit('state'), () => !alive(nPid));
    // h1's watchdog fences the HA guest once its lease ran out.
    await until('the watchdog fences q1', limit('state') + limit('daemon'), () => !alive(qPid));

    etcd.restart(lead);
    etcd.restart(other);
    await until('n1 recorded stopped', limit('state') + limit('daemon'), async () => {
      const v = await h1.client.getVm('n1').catch(() => undefined);
      return v?.state === 'stopped';
    });
    const n = await h1.client.getVm('n1');
    expect(n).toMatchObject({ host: 'h1', state: 'stopped', runtime: null });
    expect(n.stateReason).toMatch(/QEMU exited/);
    // The HA guest: h1 rejoins (its second watchdog) and restarts it, though its exit may have been written (as a plain
    // "QEMU exited" stop) once quorum was back and before the rejoin (docs/ha.md "Losing the store": the rejoin restarts
    // what the watchdog guarded). Its record is never `running` without its QEMU, and it runs on one host at most.
    const wdLog = path.join(h1.stateDir, 'watchdog.log');
    await until('h1 has its second watchdog', limit('daemon'), () => (readFileSync(wdLog, 'utf8').match(/guarding the HA VMs/g)?.length ?? 0) >= 2);
    let q: VmView | undefined;
    let seen: VmView | undefined;
    await until('q1 runs again with a new live QEMU', limit('boot') + limit('daemon'), async () => {
      const v = await h1.client.getVm('q1').catch(() => undefined);
      seen = v ?? seen;
      if (v?.state === 'running' && v.runtime && v.runtime.pid !== qPid && alive(v.runtime.pid)) q = v;
      return q !== undefined;
    }).catch((err: Error) => { throw new Error(`${err.message}; q1 last seen ${seen ? `${seen.state} on ${seen.host} (${seen.stateReason})` : 'never'}`); });
    expect(q!.host).toBe('h1');
    await waitForLine(h1.client, 'q1', READY);
    // The plain VM starts again from its stopped record.
    expect(await h1.client.action('n1', 'start')).toMatchObject({ state: 'running', host: 'h1' });
    const nAgain = (await h1.client.getVm('n1')).runtime!.pid;
    expect(nAgain).not.toBe(nPid);
    expect(alive(nAgain)).toBe(true);
    expect(mostAtOnce.get('q1')).toBe(1);
    expect(mostAtOnce.get('n1')).toBe(1);
    for (const v of ['n1', 'q1']) {
      const rec = await h1.client.getVm(v);
      if (rec.state === 'running') await hosts[rec.host as 'h1' | 'h2'].client.action(v, 'kill');
    }
  }, 3 * limit('boot') + 4 * limit('daemon') + 2 * limit('state'));
});

/**
 * A host cut from its peers but not from etcd, in network namespaces (as
 * test/ha-partition): etcd (one member) in a namespace with a bridge, h1 and
 * h2 each in their own namespace joined to it by a veth, made a cluster by
 * init and join, leases of 3 s. The cut is an `unreachable` route to the
 * other host's address in each host's namespace: both still reach etcd.
 */
describe('a host cut from its peers but not from etcd', () => {
  const lab = new NetnsLab();
  const part: Partial<Record<'h1' | 'h2', TestDaemon>> = {};
  const nsOf: Record<string, string> = {};
  const addr = { h1: '10.78.0.11', h2: '10.78.0.12' } as const;
  const dirs: string[] = [];
  let partShared = '';
  let etcdDir = '';
  const argsOf = (name: 'h1' | 'h2', dir: string) => ['--config', path.join(dir, 'config.json'), '--host-name', name, '--listen', `${addr[name]}:0`];
  /** Restarts a host's daemon on its state (cluster.json given a 3 s lease first, as the HA tests use). */
  const restart = async (name: 'h1' | 'h2') => {
    const d = part[name]!;
    await d.stop();
    const file = path.join(d.stateDir, 'cluster.json');
    writeFileSync(file, JSON.stringify({ ...(JSON.parse(readFileSync(file, 'utf8')) as object), leaseTtlSeconds: 3 }));
    part[name] = await startDaemon({ stateDir: d.stateDir, netns: nsOf[name]!, extraArgs: argsOf(name, d.stateDir) });
  };

  beforeAll(async () => {
    partShared = mkdtempSync(path.join(os.tmpdir(), 'pv-cut-shared-'));
    roots.push(partShared);
    etcdDir = mkdtempSync(path.join(os.tmpdir(), 'pv-cut-etcd-'));
    const { core } = await lab.fabricWithEtcd('core', '10.78.0.1', etcdDir);
    for (const [i, name] of (['h1', 'h2'] as const).entries()) {
      const ns = await lab.add(name);
      nsOf[name] = ns;
      await lab.veth(ns, 'eth0', `${addr[name]}/24`, core, `v${name}`, null);
      await lab.exec(core, 'ip', ['link', 'set', `v${name}`, 'master', 'br0']);
      const dir = tempStateDir(`cut-${name}`);
      dirs.push(dir);
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ vmsDir: partShared }));
      await until(`etcd reachable from ${name}`, limit('daemon'), async () => (await lab.exec(ns, 'etcdctl', ['--endpoints', 'http://10.78.0.1:2379', '--command-timeout=1s', 'get', 'x'], true)).code === 0);
      part[name] = await startDaemon({ stateDir: dir, netns: ns, extraArgs: argsOf(name, dir) });
      if (i === 0) {
        await cli(part.h1!, ['cluster', 'init', '--etcd', 'http://10.78.0.1:2379', '--prefix', `/pv-cut-${newUuid()}/`]);
        await restart('h1');
      }
    }
    const join = (JSON.parse(await cli(part.h1!, ['cluster', 'token', 'create', '--ttl', '10m', '--json'])) as { token: string }).token;
    // A member on a routed address serves HTTPS with its own certificate: pin it (daemon.json names its fingerprint).
    const fp = (JSON.parse(readFileSync(path.join(part.h1!.stateDir, 'daemon.json'), 'utf8')) as { tlsFingerprint: string }).tlsFingerprint;
    await cli(part.h2!, ['cluster', 'join', part.h1!.url, '--token', join, '--fingerprint', fp]);
    await restart('h2');
  }, 8 * limit('daemon'));

  afterAll(async () => {
    await killClusterHosts([part.h1, part.h2], dirs);
    await lab.cleanup();
    if (partShared) rmSync(partShared, { recursive: true, force: true });
    if (etcdDir) rmSync(etcdDir, { recursive: true, force: true });
  });

  it('keeps its lease and its HA guest (not restarted elsewhere); writes forwarded across the cut fail with HOST_UNREACHABLE; healed, they work', async () => {
    const h1 = part.h1!;
    const h2 = part.h2!;
    await h1.client.createVm(guestSpec('c1', { ha: true }), { host: 'h1' });
    await h1.client.action('c1', 'start');
    await waitForLine(h1.client, 'c1', READY);
    const pid = (await h1.client.getVm('c1')).runtime!.pid;
    const hostsOf = new HostClient({ endpoint: { socketPath: h2.socket } });
    const states = async () => (await hostsOf.list()).map((h) => `${h.name}:${h.state}`).join(' ');
    expect(await states()).toBe('h1:ready h2:ready');

    // The cut: neither host can reach the other; both reach etcd.
    await lab.exec(nsOf['h1']!, 'ip', ['route', 'add', 'unreachable', `${addr.h2}/32`]);
    await lab.exec(nsOf['h2']!, 'ip', ['route', 'add', 'unreachable', `${addr.h1}/32`]);
    expect((await lab.exec(nsOf['h2']!, 'etcdctl', ['--endpoints', 'http://10.78.0.1:2379', '--command-timeout=2s', 'get', 'x'], true)).code).toBe(0);
    // A write sent to h2 for h1's VM cannot be forwarded: a clear error naming the owner, and nothing happens.
    await expect(h2.client.action('c1', 'stop')).rejects.toMatchObject({ code: 'HOST_UNREACHABLE', message: expect.stringContaining(`host h1 at https://${addr.h1}:`) as unknown });
    // Five lease TTLs (3 s) later h1 still holds its lease: both hosts ready, the guest runs on h1 with the same
    // QEMU, h1's watchdog killed nothing, reads through h2 answer, and no restart intent exists.
    const end = Date.now() + 15_000;
    while (Date.now() < end) {
      expect(await states()).toBe('h1:ready h2:ready');
      expect(await h2.client.getVm('c1')).toMatchObject({ host: 'h1', state: 'running', runtime: { pid } });
      expect(alive(pid)).toBe(true);
      await sleep(500);
    }
    expect(readFileSync(path.join(h1.stateDir, 'watchdog.log'), 'utf8')).not.toMatch(/killed/);
    expect(mostAtOnce.get('c1')).toBe(1);

    // Healed: the same forwarded write now runs on h1.
    await lab.exec(nsOf['h1']!, 'ip', ['route', 'del', 'unreachable', `${addr.h2}/32`]);
    await lab.exec(nsOf['h2']!, 'ip', ['route', 'del', 'unreachable', `${addr.h1}/32`]);
    expect(await h2.client.action('c1', 'kill')).toMatchObject({ name: 'c1', host: 'h1', state: 'stopped' });
    await until('c1\'s QEMU gone', limit('state'), () => !alive(pid));
    expect(mostAtOnce.get('c1')).toBe(1);
  }, 2 * limit('boot') + 4 * limit('daemon'));
});
