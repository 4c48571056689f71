/**
 * Cluster HA with real parts: three daemons (hosts h1, h2, h3) on a
 * three-member etcd (scripts/etcd.sh), leases of 3 s, VM directories on one shared folder (the
 * shared storage), and the busybox test guest under QEMU (TCG). An HA VM's
 * host crashes (daemon and QEMU SIGKILLed), then its next host hangs (daemon
 * SIGSTOPped: its own watchdog must kill the QEMU); each time the VM runs
 * again on a live host and boots, and the new QEMU never starts while the old
 * one still runs (the etcd leader is killed too during the first failover).
 * The guest writes its run log to a raw disk on the shared storage
 * (test/helpers/run-log.ts): three runs, one per host, none writing after the
 * next had begun. A cordoned host takes no HA restart; `GET /v1/hosts` shows
 * the lost host as down.
 *
 * Quorum loss (first, with all hosts up): two of the three etcd members are
 * killed while h1 runs an HA guest and a plain one, both with memory
 * checkers. A write answers STORE_UNAVAILABLE; the plain guest's heartbeat
 * goes on (read from its serial log on disk: reads need the store too); the
 * HA guest is killed by h1's watchdog when the lease cannot be renewed
 * (docs/ha.md: losing the lease fences HA VMs, as Proxmox's watchdog does on
 * quorum loss). With quorum back, h1 rejoins with a new lease, a new watchdog,
 * and restarts the fenced guest, which boots and beats again with a clean
 * memory check; writes work, every host is ready.
 *
 * A watchdog that exits while its host still holds the lease (killed here; in
 * CI it fenced on a renewal answered too late) makes the host give the lease
 * up and rejoin: a new watchdog, a new lease, every host ready.
 *
 * QEMU uids on the shared vmsDir: with h1's two guests running, a third QEMU
 * starts on h2; the three have three uids, the entries of the one
 * VMSDIR/.qemu-uids folder. The HA VM keeps its uid through both failovers.
 *
 * Throughout the file a sampler reads /proc every 100 ms and counts the QEMU
 * processes of each guest (its `pv.name=` on the kernel command line): no
 * guest ever has two.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostClient } from '../src/client/index.js';
import type { VmView } from '../src/spec/index.js';
import { newUuid } from '../src/shared/index.js';
import { startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { startEtcd, type TestEtcd } from './helpers/etcd.js';
import { limit } from './helpers/limits.js';
import { badLines, heartbeats, lastHb, waitHeartbeat } from './helpers/memtest.js';
import { readRunLog, runsOf, startRunLog } from './helpers/run-log.js';
import { guestSpec, READY, waitForLine } from './helpers/vm.js';

// As test/cluster-drain: 128 MiB less 60 KiB (QEMU 7.2's TCG dirty-page bug, FACTS.md), memtest on 32 MiB.
const MEM = '131012Ki';
const MEMTEST = 'pv.memtest=32:4';

let etcd: TestEtcd;
let shared: string;
const hosts = new Map<string, TestDaemon>();
const qemuPids = new Set<number>();

/** The most QEMU processes seen at once per guest name (pv.name= in the kernel command line), sampled every 100 ms. */
const mostAtOnce = new Map<string, number>();
let sampler: NodeJS.Timeout | undefined;
function sampleQemus(): void {
  const now = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (/\) Z /.test(readFileSync(`/proc/${entry}/stat`, 'utf8'))) continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!argv[0]?.includes('qemu-system')) continue;
      const name = /(?:^| )pv\.name=(\S+)/.exec(argv.find((a) => a.includes('pv.name=')) ?? '')?.[1];
      if (name && argv.some((a) => a.includes(shared))) now.set(name, (now.get(name) ?? 0) + 1);
    } catch {
      /* gone */
    }
  }
  for (const [name, n] of now) mostAtOnce.set(name, Math.max(mostAtOnce.get(name) ?? 0, n));
}

/** Polls `check` every 100 ms until it holds (throws `what` after `ms`). */
async function until(what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  for (const end = Date.now() + ms; !(await check());) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const readText = (file: string): string => { try { return readFileSync(file, 'utf8'); } catch { return ''; } };

/** The real uid a process runs as (/proc/PID/status). */
const uidOf = (pid: number): number => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

function running(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
const kill = (pid: number, sig: NodeJS.Signals = 'SIGKILL') => {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
};

beforeAll(async () => {
  etcd = await startEtcd(3, 'ha');
  shared = mkdtempSync(path.join(os.tmpdir(), 'pv-ha-shared-'));
  sampler = setInterval(sampleQemus, 100);
  const prefix = `/pv-ha-${newUuid()}/`;
  for (const name of ['h1', 'h2', 'h3']) {
    const dir = tempStateDir(`ha-${name}`);
    const file = path.join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ vmsDir: shared, store: { kind: 'etcd', endpoints: etcd.endpoints, prefix, timeoutMs: 3000, leaseTtlSeconds: 3 } }));
    hosts.set(name, await startDaemon({ stateDir: dir, extraArgs: ['--config', file, '--host-name', name] }));
  }
}, 4 * limit('daemon'));

afterAll(async () => {
  clearInterval(sampler);
  for (const d of hosts.values()) {
    kill(d.pid, 'SIGCONT');
    await d.kill9();
    // Each host's fencing watchdog runs on its own: stop it by its PID (in its log).
    const log = (() => { try { return readFileSync(path.join(d.stateDir, 'watchdog.log'), 'utf8'); } catch { return ''; } })();
    for (const m of log.matchAll(/watchdog\[(\d+)\]/g)) kill(Number(m[1]));
  }
  for (const pid of qemuPids) kill(pid);
  etcd?.stop();
  if (shared) rmSync(shared, { recursive: true, force: true });
});

/** Polls the VM through a live host until it runs on another host with another QEMU; checks the old QEMU was gone first. */
async function waitRestarted(via: TestDaemon, vm: string, from: string, oldPid: number): Promise<VmView> {
  const deadline = Date.now() + limit('boot') + 30_000;
  for (;;) {
    const v = await via.client.getVm(vm).catch(() => undefined); // a read fails while etcd elects a leader
    if (!v) {
      if (Date.now() > deadline) throw new Error(`${vm}: no answer from ${via.url}`);
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    const pid = v.runtime?.pid;
    if (v.host !== from && v.state === 'running' && pid && pid !== oldPid) {
      expect(running(oldPid), `the old QEMU (pid ${oldPid}) still ran when ${v.host} started the VM`).toBe(false);
      qemuPids.add(pid);
      return v;
    }
    if (Date.now() > deadline) throw new Error(`${vm} not restarted away from ${from}: ${v.host} ${v.state} (${v.stateReason})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('cluster HA on three hosts', () => {
  it('the run-log check refuses overlapping runs (fabricated records)', () => {
    const rec = (sector: number, host: string, boot: string, counter: number, seen: number) => ({ sector, host, boot, counter, seen });
    const a = [0, 1, 2].map((i) => rec(i, 'h1', 'aaaaaaaa', i, -1));
    const b = [16, 17].map((s, i) => rec(s, 'h2', 'bbbbbbbb', i, 2));
    expect(runsOf([...a, ...b]).map((r) => [r.host, r.records])).toEqual([['h1', 3], ['h2', 2]]);
    // h1 wrote once more after h2 had looked: past what h2 saw.
    expect(() => runsOf([...a, rec(3, 'h1', 'aaaaaaaa', 3, -1), ...b])).toThrow(/two runs at once/);
    // h1 wrote over h2's region.
    expect(() => runsOf([...a, b[0]!, rec(17, 'h1', 'aaaaaaaa', 3, -1)])).toThrow(/two runs at once/);
    // h2 overwrote one of its own records' neighbours: a gap.
    expect(() => runsOf([...a, b[0]!, rec(18, 'h2', 'bbbbbbbb', 2, 2)])).toThrow(/gap/);
  });

  it('quorum loss: a plain guest runs on, writes fail with STORE_UNAVAILABLE, the HA guest is fenced; with quorum back it runs again', async () => {
    const h1 = hosts.get('h1')!;
    await h1.client.createVm(guestSpec('q1', { memory: MEM, ha: true }, MEMTEST));
    await h1.client.createVm(guestSpec('n1', { memory: MEM }, MEMTEST));
    for (const n of ['q1', 'n1']) await h1.client.action(n, 'start');
    for (const n of ['q1', 'n1']) await waitHeartbeat(h1.client, n, 0);
    const q = await h1.client.getVm('q1');
    const n = await h1.client.getVm('n1');
    const qPid = q.runtime!.pid;
    const nPid = n.runtime!.pid;
    qemuPids.add(qPid).add(nPid);
    const serial = (id: string) => path.join(shared, id, 'serial.log');
    const nHb = lastHb(readText(serial(n.id)));

    // Lose quorum: two of the three members, the Raft leader among them.
    const lead = etcd.leader();
    const other = [0, 1, 2].find((i) => i !== lead)!;
    etcd.kill(lead);
    etcd.kill(other);
    const wdLog = path.join(h1.stateDir, 'watchdog.log');
    try {
      // A write fails with the store's stable error.
      await expect(h1.client.createVm(guestSpec('w1'))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      // h1's watchdog fences the HA guest once the lease could not be renewed for its TTL (3 s). It logs what it
      // killed after the process is gone and its note is written: wait for the line, not only for the death.
      await until('the watchdog fences q1', limit('state'), () => !running(qPid));
      await until('the watchdog logs its fence', limit('state'), () => /fenced: /.test(readText(wdLog)));
      expect(readText(wdLog)).toMatch(new RegExp(`killed q1 \\(pid ${qPid}\\)`));
      // The plain guest runs on: its memory checker beats on, clean (the log is read on disk: API reads need the store).
      await until('n1 beats on during the outage', limit('heartbeat'), () => lastHb(readText(serial(n.id))) > nHb + 3);
      expect(running(nPid)).toBe(true);
    } finally {
      // Quorum returns (even when a check of the outage failed: the file's other tests need the store).
      etcd.restart(lead);
      etcd.restart(other);
    }
    // h1 rejoins (a new lease, a new watchdog) and restarts the fenced guest itself; it boots and beats again.
    let back: VmView | undefined;
    let seen: VmView | undefined;
    await until('q1 runs again with a new QEMU', limit('boot') + limit('daemon'), async () => {
      const v = await h1.client.getVm('q1').catch(() => undefined);
      seen = v ?? seen;
      if (v?.state === 'running' && v.runtime && v.runtime.pid !== qPid) back = v;
      return back !== undefined;
    }).catch((err: Error) => {
      // What the hosts said about the rejoin and q1: the test fails with it.
      const said = [...hosts].map(([name, d]) => `${name}: ${d.log().split('\n').filter((l) => /rejoin|"vm":"q1"|HA|lease|watchdog/.test(l) && !/incoming request|request completed/.test(l)).slice(-25).join('\n')}`);
      throw new Error(`${err.message}; q1 last seen ${seen ? `${seen.state} on ${seen.host} (${seen.stateReason})` : 'never'}\n${said.join('\n')}`);
    });
    qemuPids.add(back!.runtime!.pid);
    expect(back!.host).toBe('h1');
    const owner = hosts.get(back!.host)!;
    await waitForLine(owner.client, 'q1', READY);
    const hbs = await waitHeartbeat(owner.client, 'q1', 3);
    expect(hbs[0]!.hb).toBeLessThanOrEqual(2); // a fresh boot: its heartbeat starts over
    expect(badLines(await owner.client.serialLog('q1', 4 * 1024 * 1024))).toEqual([]);
    expect(readText(wdLog).match(/guarding the HA VMs/g)?.length).toBe(2); // the second watchdog
    // The plain guest never stopped and its memory is intact.
    const nNow = await h1.client.getVm('n1');
    expect(nNow).toMatchObject({ state: 'running', host: 'h1' });
    expect(nNow.runtime!.pid).toBe(nPid);
    expect(heartbeats(readText(serial(n.id))).every((h) => h.bad === 0)).toBe(true);
    // Writes work again and every host is back.
    await h1.client.createVm(guestSpec('w1'));
    await until('all hosts ready', limit('daemon'), async () => {
      const list = await new HostClient({ endpoint: { socketPath: h1.socket } }).list().catch(() => []);
      return list.map((h) => `${h.name}:${h.state}`).join(' ') === 'h1:ready h2:ready h3:ready';
    });
    expect(mostAtOnce.get('q1')).toBe(1);
    expect(mostAtOnce.get('n1')).toBe(1);
    // QEMU uids on the shared vmsDir (docs/security.md): u2 starts on h2 beside h1's two (its QEMU only: no boot is
    // waited for); each QEMU has its own uid, given out in the one VMSDIR/.qemu-uids folder (with a folder per
    // member, h2's first VM got q1's uid). Through h2's own socket: these daemons hold no peer credential to forward.
    const h2 = hosts.get('h2')!;
    await h2.client.createVm(guestSpec('u2'));
    const u2 = await h2.client.action('u2', 'start');
    expect(u2.host).toBe('h2');
    qemuPids.add(u2.runtime!.pid);
    const uids = [back!.runtime!.pid, nPid, u2.runtime!.pid].map(uidOf);
    expect(new Set(uids).size, `QEMU uids of q1, n1 (h1) and u2 (h2): ${uids.join(' ')}`).toBe(3);
    for (const u of uids) expect(u).toBeGreaterThan(h1.qemuUidBase);
    expect(readdirSync(path.join(shared, '.qemu-uids')).sort()).toEqual(uids.map(String).sort());
    await h2.client.action('u2', 'kill');
    await h2.client.removeVm('u2');

    for (const v of ['q1', 'n1']) await h1.client.action(v, 'kill');
    for (const v of ['q1', 'n1', 'w1']) await h1.client.removeVm(v);
  }, 3 * limit('boot') + 4 * limit('daemon') + 2 * limit('heartbeat'));

  it('a watchdog gone while its host holds the lease (it fenced on a late renewal, or died): the host gives the lease up and rejoins with a new lease and a new watchdog', async () => {
    // What CI saw: a renewal answered after the TTL the watchdog was told made it fence and exit while the daemon kept
    // its lease, unguarded from then on. Killing the watchdog stands in for that exit (the daemon reacts to any exit).
    const h3 = hosts.get('h3')!;
    const wdLog = path.join(h3.stateDir, 'watchdog.log');
    const guarding = () => [...readText(wdLog).matchAll(/watchdog\[(\d+)\]: guarding/g)].map((m) => Number(m[1]));
    const before = guarding();
    const rejoins = () => h3.log().match(/rejoin: this host holds a new lease/g)?.length ?? 0;
    const rejoinsBefore = rejoins();
    const wd = before.at(-1)!;
    expect(running(wd)).toBe(true);
    kill(wd);
    await until('h3 starts a new watchdog', limit('daemon'), () => guarding().length === before.length + 1);
    const fresh = guarding().at(-1)!;
    expect(fresh).not.toBe(wd);
    expect(running(fresh)).toBe(true);
    await until('h3 holds a new lease', limit('daemon'), () => rejoins() === rejoinsBefore + 1);
    expect(h3.log()).toMatch(/the fencing watchdog fenced and exited before this host saw its lease lost/);
    await until('all hosts ready', limit('daemon'), async () => {
      const list = await new HostClient({ endpoint: { socketPath: h3.socket } }).list().catch(() => []);
      return list.map((h) => `${h.name}:${h.state}`).join(' ') === 'h1:ready h2:ready h3:ready';
    });
  }, 4 * limit('daemon'));

  it('restarts an HA VM elsewhere when its host crashes, then when its next host hangs', async () => {
    const h1 = hosts.get('h1')!;
    // The guest's run log: a raw disk on the shared storage (test/helpers/run-log.ts).
    await h1.client.createVm(guestSpec('ha1', { ha: true, disks: [{ name: 'hblog', size: '4Mi', format: 'raw' }] }));
    await h1.client.action('ha1', 'start');
    await waitForLine(h1.client, 'ha1', READY);
    const first = await h1.client.getVm('ha1');
    expect(first.host).toBe('h1');
    const pid1 = first.runtime!.pid;
    qemuPids.add(pid1);
    const uid1 = uidOf(pid1);
    const image = path.join(shared, first.id, 'disks', 'hblog.raw');
    /** Starts the writer on `host` and waits for three of its records on the disk. */
    const logRun = async (d: TestDaemon, host: string) => {
      await startRunLog(d.client, 'ha1', host);
      await until(`three run-log records from ${host}`, limit('shell'), () => readRunLog(image).filter((r) => r.host === host).length >= 3);
    };
    await logRun(h1, 'h1');

    // h3 is cordoned: the restart must go to h2.
    const hostsOf = (d: TestDaemon) => new HostClient({ endpoint: { socketPath: d.socket } });
    await hostsOf(h1).cordon('h3');
    await expect(hostsOf(h1).cordon('nope')).rejects.toMatchObject({ code: 'HOST_NOT_FOUND' });
    expect((await hostsOf(h1).list()).map((h) => [h.name, h.state, h.self])).toEqual([['h1', 'ready', true], ['h2', 'ready', false], ['h3', 'cordoned', false]]);

    // Crash: the host's daemon and its QEMU die at once; and the etcd leader dies during the failover.
    await h1.kill9();
    kill(pid1);
    const lead = etcd.leader();
    etcd.kill(lead);
    const v2 = await waitRestarted(hosts.get('h2')!, 'ha1', 'h1', pid1);
    etcd.restart(lead);
    expect(v2.host).toBe('h2');
    expect(v2.stateReason).toMatch(/HA: restarted on h2 after host h1 was lost/);
    // It runs with the uid it had on h1: h2 found its entry in the shared vmsDir's .qemu-uids (its files stay its own).
    expect(uidOf(v2.runtime!.pid)).toBe(uid1);
    expect(readFileSync(path.join(shared, '.qemu-uids', String(uid1)), 'utf8').split('\n')[0]).toBe(first.id);
    const owner = hosts.get('h2')!;
    await waitForLine(owner.client, 'ha1', READY);
    await logRun(owner, 'h2');
    const listed = await hostsOf(owner).list();
    expect(listed.map((h) => [h.name, h.state])).toEqual([['h1', 'down'], ['h2', 'ready'], ['h3', 'cordoned']]);
    expect(listed[1]!.vms).toBe(1);
    await hostsOf(owner).uncordon('h3');

    // Hang: the owner's daemon stops answering and renewing; its watchdog must kill the QEMU before anyone restarts it.
    kill(owner.pid, 'SIGSTOP');
    const other = hosts.get(v2.host === 'h2' ? 'h3' : 'h2')!;
    const v3 = await waitRestarted(other, 'ha1', v2.host, v2.runtime!.pid);
    expect(v3.host).toBe(v2.host === 'h2' ? 'h3' : 'h2');
    expect(uidOf(v3.runtime!.pid)).toBe(uid1);
    await waitForLine(other.client, 'ha1', READY);
    await logRun(other, v3.host);
    expect(readFileSync(path.join(owner.stateDir, 'watchdog.log'), 'utf8')).toMatch(new RegExp(`killed ha1 \\(pid ${v2.runtime!.pid}\\)`));
    expect(mostAtOnce.get('ha1')).toBe(1);
    // The guest's own account: three runs, one per host, in order, each whole, none writing after the next began.
    const runs = runsOf(readRunLog(image));
    expect(runs.map((r) => r.host)).toEqual(['h1', 'h2', v3.host]);
    expect(new Set(runs.map((r) => r.boot)).size).toBe(3);
    for (const r of runs) expect(r.records).toBeGreaterThanOrEqual(3);
  }, 4 * (limit('boot') + 30_000));
});
