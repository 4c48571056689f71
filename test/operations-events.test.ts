/**
 * Long operations and the event stream with real guests: `polyvisor events`
 * sees a VM go stopped -> starting -> running; an async start is waited on;
 * a start cancelled halfway (QEMU already up) leaves the VM stopped with no
 * process left.
 */
import { chmodSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PlatformClient } from '../src/client/index.js';
import type { EventView } from '../src/spec/index.js';
import { killQemusUnder, processesUnder, startDaemon, vmTempDir, type TestDaemon } from './helpers/daemon.js';
import { runCli } from './helpers/http.js';
import { removeAllVms } from './helpers/isolate.js';
import { limit, scaled } from './helpers/limits.js';
import { limitSeconds } from './helpers/waits.js';
import { guestSpec } from './helpers/vm.js';

let d: TestDaemon;
let p: PlatformClient;
beforeAll(async () => {
  d = await startDaemon();
  p = new PlatformClient({ endpoint: { socketPath: d.socket } });
});
afterEach(() => removeAllVms(d));
afterAll(async () => {
  await d?.stop();
  killQemusUnder(d.stateDir);
});

describe('events and operations', () => {
  it('polyvisor events sees stopped -> starting -> running; async start and stop are operations', async () => {
    await d.client.createVm(guestSpec('ev'));
    await d.client.action('ev', 'start');
    await d.client.action('ev', 'stop', { force: true });
    let started: () => void = () => undefined;
    const ready = new Promise<void>((r) => (started = r));
    const follow = runCli(['--socket', d.socket, 'events', '--vm', 'ev', '--json'], {}, (out) => /"to":"running"/.test(out), () => setTimeout(started, scaled(700)));
    const all: EventView[] = [];
    const stop = new AbortController();
    const unfiltered = p.followEvents((e) => all.push(e), { signal: stop.signal });
    await ready;
    const op = await p.startAction('ev', 'start');
    expect(op).toMatchObject({ kind: 'vm.start', vm: 'ev', status: 'running', actor: 'local' });
    const done = await p.waitOperation(op.id, limitSeconds('operation', 0.5));
    expect(done).toMatchObject({ status: 'succeeded', progress: 1 });
    expect(PlatformClient.vmOf(done)?.state).toBe('running');
    // The driver's log line for this start names the operation and the request that began it.
    const logged = d.log().split('\n').filter((l) => l.includes('"QEMU started"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged.find((l) => l.operationId === op.id)).toMatchObject({ component: 'qemu', vm: 'ev', requestId: expect.stringMatching(/^req-/) });
    const cli = await follow;
    const events = cli.stdout.trim().split('\n').map((l) => JSON.parse(l) as EventView);
    const states = events.filter((e) => e.type === 'vm.state').map((e) => (e.type === 'vm.state' ? `${e.from}->${e.to}` : ''));
    expect(states).toEqual(['stopped->starting', 'starting->running']);
    expect(events.every((e) => e.vm === 'ev')).toBe(true);
    expect(events.some((e) => e.type === 'operation' && e.operation.id === op.id)).toBe(true);
    const stopOp = await p.startAction('ev', 'stop', { force: true });
    expect((await p.waitOperation(stopOp.id, limitSeconds('operation', 0.5))).status).toBe('succeeded');
    const seen = () => all.some((e) => e.type === 'operation' && e.operation.id === stopOp.id && e.operation.status === 'succeeded');
    const trail = Date.now() + scaled(2_500); // another connection: may trail the answer
    while (Date.now() < trail && !seen()) await new Promise((r) => setTimeout(r, 50));
    stop.abort();
    await unfiltered;
    expect(seen()).toBe(true);
    // Synchronous actions are operations too (the first start and stop above), newest first.
    const listed = await p.listOperations({ vm: 'ev' });
    expect(listed.map((o) => o.id).slice(0, 2)).toEqual([stopOp.id, op.id]);
    expect(listed.map((o) => `${o.kind} ${o.status}`)).toEqual(['vm.stop succeeded', 'vm.start succeeded', 'vm.stop succeeded', 'vm.start succeeded']);
    await d.client.removeVm('ev');
  });
});

/** Processes (the slow wrapper, or QEMU after it) with a VM's -uuid and this state directory in their argv. */
function startingUnder(stateDir: string): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid).filter((e) => {
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      return argv.includes('-uuid') && argv.some((a) => a.includes(stateDir));
    } catch {
      return false;
    }
  }).map(Number);
}

describe('cancelling a start halfway', () => {
  let slow: TestDaemon;
  beforeAll(async () => {
    // A QEMU that takes 4 s (scaled to the run) before it starts: the start is caught with the process up but QEMU not yet adopted.
    const dir = vmTempDir('slowqemu');
    const fake = path.join(dir, 'qemu-slow.sh');
    // Only a VM's start waits (its argv has -uuid); the daemon's probes of QEMU do not.
    writeFileSync(fake, `#!/bin/sh\ncase " $* " in *" -uuid "*) sleep ${(scaled(4000) / 1000).toFixed(1)} ;; esac\nexec qemu-system-x86_64 "$@"\n`);
    chmodSync(fake, 0o755);
    slow = await startDaemon({ extraArgs: ['--qemu', fake] });
  });
  afterEach(() => removeAllVms(slow));
  afterAll(async () => {
    await slow?.stop();
    killQemusUnder(slow.stateDir);
  });

  it('leaves the VM stopped, consistent, and no QEMU behind', async () => {
    const sp = new PlatformClient({ endpoint: { socketPath: slow.socket } });
    await slow.client.createVm(guestSpec('half'));
    const op = await sp.startAction('half', 'start');
    const deadline = Date.now() + limit('state');
    // Halfway: the process that becomes QEMU runs, and the daemon has not adopted it yet.
    while (startingUnder(slow.stateDir).length === 0) {
      if (Date.now() > deadline) throw new Error('QEMU never came up');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await slow.client.getVm('half')).state).toBe('starting');
    const cancelling = await sp.cancelOperation(op.id);
    expect(cancelling.status).toBe('running');
    const done = await sp.waitOperation(op.id, limitSeconds('operation', 0.5));
    expect(done.status).toBe('cancelled');
    expect(done.error?.code).toBe('ABORTED');
    const v = await slow.client.getVm('half');
    expect(v.state).toBe('stopped');
    expect(v.runtime).toBeNull();
    expect(v.stateReason).toMatch(/cancelled/);
    expect(processesUnder(slow.stateDir)).toEqual([]);
    // Consistent: it starts normally afterwards, and cancelling a finished operation changes nothing.
    const again = await sp.startAction('half', 'start');
    expect((await sp.waitOperation(again.id, limitSeconds('operation', 0.5))).status).toBe('succeeded');
    expect((await sp.cancelOperation(again.id)).status).toBe('succeeded');
    expect(processesUnder(slow.stateDir).length).toBe(1);
    await slow.client.action('half', 'kill');
  });
});
