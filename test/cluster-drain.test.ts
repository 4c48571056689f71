/**
 * Cluster membership and drain with real parts: one etcd member
 * (scripts/etcd.sh), two daemons on 127.0.0.1 each with its own state and
 * vmsDir, the busybox guest under QEMU (TCG) with its memory checker.
 * h1 starts as a single host running a guest and holding a stopped VM;
 * `cluster init` copies them into etcd and h1 restarts as the first member,
 * re-adopting the guest. A join token is made; an expired one and a used one
 * are refused; h2 joins and restarts as a member. `host drain h1`, sent to
 * h2, moves the running guest live and the stopped VM offline to h2 (the
 * scheduler's only choice) with the cluster's peer credential — nobody gives
 * a URL or a token — and the guest's memory check passes on h2. h1 shows
 * drained, then leaves; h2, which owns VMs, may not leave without --force.
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

const MEM = '262084Ki'; // not a multiple of 256 KiB: QEMU 7.2's TCG dirty-page bug stays out of the way (FACTS.md)
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
  it('init, join with a token (expired and used ones refused), drain h1 onto h2 with the guest intact, leave', async () => {
    // h1, still a single host: a running guest with its memory checker, and a stopped VM with a disk.
    await h1.client.createVm(guestSpec('d1', { memory: MEM }, 'pv.memtest=128:0'));
    await h1.client.action('d1', 'start');
    await waitForLine(h1.client, 'd1', READY);
    await h1.client.createVm(guestSpec('s1', { disks: [{ name: 'data', size: '16Mi' }] }));

    const prefix = `/pv-drain-${newUuid()}/`;
    const init = await cli(h1, ['cluster', 'init', '--etcd', etcd.endpoints.join(','), '--prefix', prefix, '--json']);
    expect(init.code, init.stderr).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({ host: 'h1', prefix, restartRequired: true, copiedVms: 2 });
    expect((await cli(h1, ['cluster', 'init', '--etcd', etcd.endpoints.join(','), '--prefix', prefix])).stderr).toMatch(/CLUSTER_EXISTS|already holds a cluster/);
    h1 = await restart(h1, 'h1');
    // The guest kept running through the restart and was re-adopted from the cluster store.
    expect((await h1.client.getVm('d1'))).toMatchObject({ state: 'running', host: 'h1' });
    const hb0 = lastHb(await h1.client.serialLog('d1', 4 * 1024 * 1024));

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

    // Drain h1, asked of h2: everything h1 owns goes to h2.
    const drain = await cli(h2, ['host', 'drain', 'h1', '--json']);
    expect(drain.code, `${drain.stdout}\n${drain.stderr}`).toBe(0);
    const view = JSON.parse(drain.stdout) as { state: string; vms: Array<{ vm: string; action: string; state: string; to: string }> };
    expect(view.state).toBe('drained');
    expect(view.vms.map((v) => [v.vm, v.action, v.state, v.to]).sort()).toEqual([['d1', 'live-migrate', 'done', 'h2'], ['s1', 'offline-move', 'done', 'h2']]);
    const d1 = await h2.client.getVm('d1');
    expect(d1).toMatchObject({ state: 'running', host: 'h2' });
    expect(processesUnder(h1.stateDir)).toEqual([]);
    expect(processesUnder(h2.stateDir)).toEqual([d1.runtime!.pid]);
    await waitHeartbeat(h2.client, 'd1', hb0);
    await expectIntact(h2.client, 'd1', hb0);
    expect((await h2.client.getVm('s1'))).toMatchObject({ state: 'created', host: 'h2' }); // never started: it keeps its state
    expect((await hostsOf(h2).list()).map((h) => [h.name, h.state, h.vms])).toEqual([['h1', 'drained', 0], ['h2', 'ready', 2]]);

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
  }, 4 * limit('boot') + 6 * limit('daemon'));
});
