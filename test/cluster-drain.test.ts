/**
 * Cluster membership and drain with real parts: one etcd member
 * (scripts/etcd.sh), two daemons on 127.0.0.1 each with its own state and
 * vmsDir, the busybox guest under QEMU (TCG) with its memory checker.
 * h1 starts as a single host running six guests (each with its memory
 * checker writing and verifying 32 MiB) and holding a stopped VM;
 * `cluster init` copies them into etcd and h1 restarts as the first member,
 * re-adopting the guests. A join token is made; an expired one and a used one
 * are refused; h2 joins and restarts as a member. `host drain h1`, sent to
 * h2, moves the six running guests live, at most two at once (the drain's
 * limit: the test watches the drain record while it runs), and the stopped
 * VM offline to h2 (the scheduler's only choice) with the cluster's peer
 * credential — nobody gives a URL or a token. The CLI prints each VM's
 * progress; every guest's memory check passes on h2; h1 ends with no QEMU.
 * h1 shows drained, then leaves; h2, which owns VMs, may not leave without
 * --force.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterClient, HostClient } from '../src/client/index.js';
import { newUuid } from '../src/shared/index.js';
import { processesUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { startEtcd, type TestEtcd } from './helpers/etcd.js';
import { runCli } from './helpers/http.js';
import { killClusterHosts } from './helpers/cluster-hosts.js';
import { limit } from './helpers/limits.js';
import { expectIntact, lastHb, waitHeartbeat } from './helpers/memtest.js';
import { guestSpec, READY, waitForLine } from './helpers/vm.js';

// 128 MiB less 60 KiB (as bench/stability): not a multiple of 256 KiB, so QEMU 7.2's TCG dirty-page bug stays out of the
// way (FACTS.md); the guest needs about 96 MiB besides memtest's 32 MiB, written at 4 MiB/s and verified continuously.
const MEM = '131012Ki';
const MEMTEST = 'pv.memtest=32:4';
const GUESTS = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6'];
/** The drain's limit of VMs moved at once (cluster/drain.ts, the daemon's default). */
const DRAIN_LIMIT = 2;
let etcd: TestEtcd;
let h1: TestDaemon;
let h2: TestDaemon;
const stateDirs: string[] = [];

const cli = (d: TestDaemon, args: string[]) => runCli(['--socket', d.socket, ...args]);
const hostsOf = (d: TestDaemon) => new HostClient({ endpoint: { socketPath: d.socket } });
const clusterOf = (d: TestDaemon) => new ClusterClient({ endpoint: { socketPath: d.socket } });
const restart = async (d: TestDaemon, name: string): Promise<TestDaemon> => {
  await d.stop();
  return startDaemon({ stateDir: d.stateDir, extraArgs: ['--host-name', name] });
};

beforeAll(async () => {
  etcd = await startEtcd(1, 'drain');
  h1 = await startDaemon({ extraArgs: ['--host-name', 'h1'] });
  h2 = await startDaemon({ extraArgs: ['--host-name', 'h2'] });
  stateDirs.push(h1.stateDir, h2.stateDir);
}, 3 * limit('daemon'));

afterAll(async () => {
  await killClusterHosts([h1, h2], stateDirs);
  etcd?.stop();
});

describe('cluster membership and drain on two hosts', () => {
  it('init, join with a token (expired and used ones refused), drain six running guests of h1 onto h2 intact, leave', async () => {
    // h1, still a single host: six running guests with their memory checkers, and a stopped VM with a disk.
    for (const n of GUESTS) await h1.client.createVm(guestSpec(n, { memory: MEM }, MEMTEST));
    for (const n of GUESTS) await h1.client.action(n, 'start');
    for (const n of GUESTS) await waitForLine(h1.client, n, READY);
    await h1.client.createVm(guestSpec('s1', { disks: [{ name: 'data', size: '16Mi' }] }));

    const prefix = `/pv-drain-${newUuid()}/`;
    const init = await cli(h1, ['cluster', 'init', '--etcd', etcd.endpoints.join(','), '--prefix', prefix, '--json']);
    expect(init.code, init.stderr).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({ host: 'h1', prefix, restartRequired: true, copiedVms: GUESTS.length + 1 });
    expect((await cli(h1, ['cluster', 'init', '--etcd', etcd.endpoints.join(','), '--prefix', prefix])).stderr).toMatch(/CLUSTER_EXISTS|already holds a cluster/);
    h1 = await restart(h1, 'h1');
    // The guests kept running through the restart and were re-adopted from the cluster store.
    for (const n of GUESTS) expect((await h1.client.getVm(n))).toMatchObject({ state: 'running', host: 'h1' });
    expect(processesUnder(h1.stateDir)).toHaveLength(GUESTS.length);

    // Join tokens: an expired one and a used one are refused.
    const expired = await clusterOf(h1).createToken(1);
    const tok = await cli(h1, ['cluster', 'token', 'create', '--ttl', '10m', '--json']);
    expect(tok.code, tok.stderr).toBe(0);
    const token = (JSON.parse(tok.stdout) as { token: string }).token;
    await new Promise((r) => setTimeout(r, 1500));
    const bad = await cli(h2, ['cluster', 'join', h1.url, '--token', expired.token]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/expired/);
    const join = await cli(h2, ['cluster', 'join', h1.url, '--token', token, '--json']);
    expect(join.code, join.stderr).toBe(0);
    expect(JSON.parse(join.stdout)).toMatchObject({ host: 'h2', prefix, endpoints: etcd.endpoints });
    await expect(new ClusterClient({ endpoint: { url: h1.url } }).admit(token, 'h3')).rejects.toMatchObject({ code: 'CLUSTER_TOKEN_USED' });
    h2 = await restart(h2, 'h2');

    const status = await clusterOf(h2).status();
    expect(status).toMatchObject({ clustered: true, host: 'h2', prefix, etcd: [{ endpoint: etcd.endpoints[0], healthy: true }] });
    expect(status.members.map((m) => [m.name, m.state])).toEqual([['h1', 'ready'], ['h2', 'ready']]);
    expect(['h1', 'h2']).toContain(status.leader);

    // Drain h1, asked of h2: everything h1 owns goes to h2. While the CLI waits, the test reads the drain record
    // every 100 ms and counts the VMs it shows moving at once.
    const hb0 = new Map<string, number>();
    for (const n of GUESTS) hb0.set(n, lastHb(await h1.client.serialLog(n, 4 * 1024 * 1024)));
    let watching = true;
    let mostMoving = 0;
    const seenMoving = new Set<string>();
    const watcher = (async () => {
      while (watching) {
        const rec = await hostsOf(h2).drainStatus('h1').catch(() => undefined);
        const moving = rec?.vms.filter((v) => v.state === 'moving').map((v) => v.vm) ?? [];
        mostMoving = Math.max(mostMoving, moving.length);
        for (const v of moving) seenMoving.add(v);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const drain = await cli(h2, ['host', 'drain', 'h1']);
    watching = false;
    await watcher;
    expect(drain.code, `${drain.stdout}\n${drain.stderr}`).toBe(0);
    // The CLI's progress: a line per VM as its state changes, each ending done, then the host's state.
    for (const n of GUESTS) expect(drain.stdout).toContain(`${n}: live-migrate -> h2: done`);
    expect(drain.stdout).toContain('s1: offline-move -> h2: done');
    expect(drain.stdout.trim().split('\n').pop()).toBe('h1: drained');
    // Several at once, never more than the limit.
    expect(mostMoving).toBe(DRAIN_LIMIT);
    expect(seenMoving.size).toBeGreaterThanOrEqual(DRAIN_LIMIT);
    const view = await hostsOf(h2).drainStatus('h1');
    expect(view.state).toBe('drained');
    expect(view.vms.map((v) => [v.vm, v.action, v.state, v.to]).sort()).toEqual([
      ...GUESTS.map((n) => [n, 'live-migrate', 'done', 'h2']), ['s1', 'offline-move', 'done', 'h2'],
    ]);
    expect(processesUnder(h1.stateDir)).toEqual([]);
    const pids: number[] = [];
    for (const n of GUESTS) {
      const v = await h2.client.getVm(n);
      expect(v).toMatchObject({ state: 'running', host: 'h2' });
      pids.push(v.runtime!.pid);
    }
    expect(processesUnder(h2.stateDir).sort()).toEqual(pids.sort());
    // Every guest goes on after its move, its memory checker finding no bad page (its heartbeat counts on from h1's).
    for (const n of GUESTS) {
      await waitHeartbeat(h2.client, n, hb0.get(n)!);
      await expectIntact(h2.client, n, hb0.get(n)!);
    }
    expect((await h2.client.getVm('s1'))).toMatchObject({ state: 'created', host: 'h2' }); // never started: it keeps its state
    expect((await hostsOf(h2).list()).map((h) => [h.name, h.state, h.vms])).toEqual([['h1', 'drained', 0], ['h2', 'ready', GUESTS.length + 1]]);

    // Leaving: h2 owns VMs and is refused; the drained h1 leaves.
    const busy = await cli(h2, ['cluster', 'leave']);
    expect(busy.code).not.toBe(0);
    expect(busy.stderr).toMatch(/still owns VMs/);
    const left = await cli(h1, ['cluster', 'leave', '--json']);
    expect(left.code, left.stderr).toBe(0);
    expect(JSON.parse(left.stdout)).toMatchObject({ host: 'h1', left: true, abandonedVms: [] });
    expect((await hostsOf(h2).list()).map((h) => h.name)).toEqual(['h2']);
    // The watchdog is a process of its own: it logs being disarmed on its next tick after the leave.
    const watchdogLog = (): string => { try { return readFileSync(`${h1.stateDir}/watchdog.log`, 'utf8'); } catch { return ''; } };
    for (const until = Date.now() + limit('daemon'); !/disarmed/.test(watchdogLog()) && Date.now() < until;) await new Promise((r) => setTimeout(r, 200));
    expect(watchdogLog()).toMatch(/disarmed/);
  }, 6 * limit('boot') + 3 * limit('operation') + 6 * limit('daemon'));
});
