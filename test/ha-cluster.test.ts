/**
 * Cluster HA with real parts: three daemons (hosts h1, h2, h3) on one etcd
 * (scripts/etcd.sh), leases of 3 s, VM directories on one shared folder (the
 * shared storage), and the busybox test guest under QEMU (TCG). An HA VM's
 * host crashes (daemon and QEMU SIGKILLed), then its next host hangs (daemon
 * SIGSTOPped: its own watchdog must kill the QEMU); each time the VM runs
 * again on a live host and boots, and the new QEMU never starts while the old
 * one still runs. A cordoned host takes no HA restart; `GET /v1/hosts` shows
 * the lost host as down.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostClient } from '../src/client/index.js';
import type { VmView } from '../src/spec/index.js';
import { newUuid } from '../src/shared/index.js';
import { startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { startEtcd, type TestEtcd } from './helpers/etcd.js';
import { limit } from './helpers/limits.js';
import { guestSpec, READY, waitForLine } from './helpers/vm.js';

let etcd: TestEtcd;
let shared: string;
const hosts = new Map<string, TestDaemon>();
const qemuPids = new Set<number>();

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
  etcd = await startEtcd(1, 'ha');
  shared = mkdtempSync(path.join(os.tmpdir(), 'pv-ha-shared-'));
  const prefix = `/pv-ha-${newUuid()}/`;
  for (const name of ['h1', 'h2', 'h3']) {
    const dir = tempStateDir(`ha-${name}`);
    const file = path.join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ vmsDir: shared, store: { kind: 'etcd', endpoints: etcd.endpoints, prefix, timeoutMs: 3000, leaseTtlSeconds: 3 } }));
    hosts.set(name, await startDaemon({ stateDir: dir, extraArgs: ['--config', file, '--host-name', name] }));
  }
}, 4 * limit('daemon'));

afterAll(async () => {
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
    const v = await via.client.getVm(vm);
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
  it('restarts an HA VM elsewhere when its host crashes, then when its next host hangs', async () => {
    const h1 = hosts.get('h1')!;
    await h1.client.createVm(guestSpec('ha1', { ha: true }));
    await h1.client.action('ha1', 'start');
    await waitForLine(h1.client, 'ha1', READY);
    const first = await h1.client.getVm('ha1');
    expect(first.host).toBe('h1');
    const pid1 = first.runtime!.pid;
    qemuPids.add(pid1);

    // h3 is cordoned: the restart must go to h2.
    const hostsOf = (d: TestDaemon) => new HostClient({ endpoint: { socketPath: d.socket } });
    await hostsOf(h1).cordon('h3');
    await expect(hostsOf(h1).cordon('nope')).rejects.toMatchObject({ code: 'HOST_NOT_FOUND' });
    expect((await hostsOf(h1).list()).map((h) => [h.name, h.state, h.self])).toEqual([['h1', 'ready', true], ['h2', 'ready', false], ['h3', 'cordoned', false]]);

    // Crash: the host's daemon and its QEMU die at once.
    await h1.kill9();
    kill(pid1);
    const v2 = await waitRestarted(hosts.get('h2')!, 'ha1', 'h1', pid1);
    expect(v2.host).toBe('h2');
    expect(v2.stateReason).toMatch(/HA: restarted on h2 after host h1 was lost/);
    const owner = hosts.get('h2')!;
    await waitForLine(owner.client, 'ha1', READY);
    const listed = await hostsOf(owner).list();
    expect(listed.map((h) => [h.name, h.state])).toEqual([['h1', 'down'], ['h2', 'ready'], ['h3', 'cordoned']]);
    expect(listed[1]!.vms).toBe(1);
    await hostsOf(owner).uncordon('h3');

    // Hang: the owner's daemon stops answering and renewing; its watchdog must kill the QEMU before anyone restarts it.
    kill(owner.pid, 'SIGSTOP');
    const other = hosts.get(v2.host === 'h2' ? 'h3' : 'h2')!;
    const v3 = await waitRestarted(other, 'ha1', v2.host, v2.runtime!.pid);
    expect(v3.host).toBe(v2.host === 'h2' ? 'h3' : 'h2');
    await waitForLine(other.client, 'ha1', READY);
    expect(readFileSync(path.join(owner.stateDir, 'watchdog.log'), 'utf8')).toMatch(new RegExp(`killed ha1 \\(pid ${v2.runtime!.pid}\\)`));
  }, 4 * (limit('boot') + 30_000));
});
