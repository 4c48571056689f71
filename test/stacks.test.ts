/**
 * Declarative stacks on a real daemon with real guests (issue 21): a
 * network-less pair — db, then app (`web-{n}`, count 1) once db's guest agent
 * answers; web-1 is ready once a command run in its guest by the agent
 * (`exec:`, guest-exec) succeeds — comes up in dependency order through `polyvisor up --yes`; a
 * second plan is empty; a memory change plans and applies "update with
 * restart" for db alone; a VM killed by hand shows in drift and `up` starts
 * it again; destroy removes the stack's VMs and leaves a VM of the same name
 * pattern outside the stack. Bad input (a name held outside the stack, a
 * cycle) changes nothing. A member never ready fails naming its condition
 * and skips its dependant, while a second apply of that stack is refused
 * (STACK_BUSY, naming the holder: the lock is in the store); an `exec:`
 * condition that exits 3 shows why in status; `--rollback-on-failure`
 * removes what that apply created, dependants first, and keeps what existed
 * before; a daemon killed mid-apply (its lock left behind), then apply again,
 * converges without duplicates.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PlatformClient, StackClient } from '../src/client/index.js';
import { isPolyvisorError } from '../src/shared/index.js';
import type { EventView, OperationView, StackApplyView } from '../src/spec/index.js';
import { killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { runCli, type CliResult } from './helpers/http.js';
import { limit } from './helpers/limits.js';
import { guestSpec } from './helpers/vm.js';

let d: TestDaemon;
let stacks: StackClient;
let platform: PlatformClient;
let dir: string;
const events: EventView[] = [];
const stopEvents = new AbortController();

/** A stack member's spec: the test guest without its name (the member gives it). */
function memberSpec(memory: string): Record<string, unknown> {
  const { name: _n, ...rest } = guestSpec('x', { memory });
  return rest;
}

function stackFile(dbMemory: string): string {
  const file = path.join(dir, `duo-${dbMemory}.yaml`);
  writeFileSync(file, stringify({
    version: 1,
    name: 'duo',
    variables: { appMemory: '128Mi' },
    vms: {
      db: { spec: memberSpec(dbMemory), ready: { agent: true, timeout: Math.round(limit('boot') / 1000) } },
      // The guest writes this file once its boot is done (guest/rootfs/etc/init.d/rcS): cat exits 1 until then.
      web: { count: 1, name: 'web-{n}', spec: { ...memberSpec('128Mi'), memory: '${var.appMemory}' }, depends_on: ['db'], ready: { exec: ['/bin/cat', '/run/polyvisor.ready-uptime'], timeout: Math.round(limit('boot') / 1000) } },
    },
  }));
  return file;
}

const cli = (args: string[]): Promise<CliResult> => runCli(['--socket', d.socket, ...args]);

async function finished(op: OperationView): Promise<OperationView> {
  let cur = op;
  const deadline = Date.now() + limit('operation', 2);
  while (cur.status === 'running' && Date.now() < deadline) cur = await platform.waitOperation(op.id, 5);
  return cur;
}

beforeAll(async () => {
  d = await startDaemon();
  dir = d.stateDir;
  stacks = new StackClient({ endpoint: { socketPath: d.socket } });
  platform = new PlatformClient({ endpoint: { socketPath: d.socket } });
  void platform.followEvents((e) => events.push(e), { signal: stopEvents.signal }).catch(() => undefined);
  // A VM of the same name pattern outside the stack: nothing the stack does may touch it.
  await d.client.createVm(guestSpec('web-9'));
}, limit('daemon'));

afterAll(async () => {
  stopEvents.abort();
  await d?.stop();
  if (d) killQemusUnder(d.stateDir);
});

describe('declarative stacks with real guests', () => {
  it('polyvisor up creates db, waits for its guest agent, then creates web-1; a second plan is empty', async () => {
    const file = stackFile('128Mi');
    const r = await cli(['up', file, '--yes']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain('+   vm db: create');
    expect(r.stdout).toMatch(/web-1\s+create\s+done/);
    // Order: db ran (and its agent answered) before web-1 was created.
    const seq = events.flatMap((e) => (e.type === 'vm.state' ? [`${e.vm}:${e.to}`] : []));
    const dbRunning = seq.indexOf('db:running');
    const webCreated = seq.indexOf('web-1:created');
    expect(dbRunning, seq.join(' ')).toBeGreaterThanOrEqual(0);
    expect(webCreated, seq.join(' ')).toBeGreaterThan(dbRunning);
    const status = await stacks.status('duo');
    expect(status.members.map((m) => [m.name, m.state, m.readiness])).toEqual([['db', 'running', 'ready'], ['web-1', 'running', 'ready']]);
    const again = await cli(['stack', 'plan', file]);
    expect(again.stdout).toContain('Nothing to do');
    expect((await d.client.getVm('web-1')).spec.labels).toEqual({ 'polyvisor.stack': 'duo', 'polyvisor.stack.member': 'web' });
  }, limit('boot', 4));

  it('a memory change plans and applies "update with restart" for db alone', async () => {
    const req = { document: (await import('yaml')).parse((await import('node:fs')).readFileSync(stackFile('192Mi'), 'utf8')) as unknown };
    const plan = await stacks.plan(req);
    expect(plan.changes.filter((c) => c.action !== 'noop')).toEqual([expect.objectContaining({
      name: 'db', action: 'update-restart', fields: [{ field: 'memory', from: '128Mi', to: '192Mi' }],
    })]);
    const before = (await d.client.getVm('web-1')).runtime;
    const op = await finished(await stacks.apply(req));
    expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
    const db = await d.client.getVm('db');
    expect(db.state).toBe('running');
    expect(db.spec.memory).toBe(192 * 1024 ** 2);
    expect((await d.client.getVm('web-1')).runtime?.pid).toBe(before?.pid); // web-1 untouched
  }, limit('boot', 3));

  it('a VM killed by hand shows in drift, and up starts it again', async () => {
    await d.client.action('web-1', 'kill');
    const drift = await stacks.drift('duo');
    expect(drift.drift).toEqual([expect.objectContaining({ name: 'web-1', action: 'start', reason: 'stopped out of band: the next apply starts it' })]);
    const text = await cli(['stack', 'drift', 'duo']);
    expect(text.stdout).toContain('stopped out of band');
    const r = await cli(['up', stackFile('192Mi'), '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('>   vm web-1 (member web): start');
    expect((await d.client.getVm('web-1')).state).toBe('running');
    expect((await stacks.drift('duo')).drift).toEqual([]);
  }, limit('boot', 3));

  it('bad input changes nothing: a name held outside the stack, a cycle, a variable never declared, up without --yes and no terminal', async () => {
    const clash = { document: { name: 'other', vms: { web: { count: 9, spec: memberSpec('128Mi') } } } };
    const err = await stacks.plan(clash).catch((e: unknown) => e);
    expect(isPolyvisorError(err, 'STACK_CONFLICT')).toBe(true);
    expect((err as Error).message).toContain('VM web-9 exists and is not the stack\'s');
    expect(await stacks.apply(clash).catch((e: unknown) => (e as { code?: string }).code)).toBe('STACK_CONFLICT');
    expect((await d.client.listVms()).map((v) => v.name).sort()).toEqual(['db', 'web-1', 'web-9']);

    const cyc = path.join(dir, 'cycle.yaml');
    writeFileSync(cyc, stringify({ name: 'cyc', vms: { a: { spec: memberSpec('64Mi'), depends_on: ['b'] }, b: { spec: memberSpec('64Mi'), depends_on: ['a'] } } }));
    const g = await cli(['stack', 'graph', cyc]);
    expect(g.code).toBe(2);
    expect(g.stderr).toContain('depends_on has a cycle: a → b → a');

    const unk = path.join(dir, 'unknown-var.yaml');
    writeFileSync(unk, stringify({ name: 'u', vms: { a: { spec: { ...memberSpec('64Mi'), memory: '${var.mem}' } } } }));
    const u = await cli(['stack', 'plan', unk]);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('vms.a.spec.memory: ${var.mem} names no variable of the stack');

    const noTty = await cli(['up', stackFile('256Mi')]);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain('STACK_CONFIRM');
    expect((await d.client.getVm('db')).spec.memory).toBe(192 * 1024 ** 2);
  }, limit('operation'));

  it('a member that never becomes ready fails naming the VM and its condition; its dependant is skipped, the rest kept; a second apply meanwhile is refused', async () => {
    // never: its guest agent is off, so `agent: true` never holds. badexec: its command exits 3 once the guest booted (and cannot run before).
    const badexec = ['/bin/sh', '-c', 'cat /run/polyvisor.ready-uptime >/dev/null && echo no database here >&2 && exit 3'];
    const document = {
      name: 'slow',
      vms: {
        never: { spec: { ...memberSpec('64Mi'), agent: { enabled: false } }, ready: { agent: true, timeout: 3, interval: 1 } },
        badexec: { spec: memberSpec('128Mi'), ready: { exec: badexec, timeout: 3, interval: 1 } }, // 64Mi leaves the agent no room to run commands
        after: { spec: memberSpec('64Mi'), depends_on: ['never'] },
      },
    };
    const started = await stacks.apply({ document });
    // Once a step runs, the lock is held: a second apply (or destroy) of the stack is refused at once, naming the holder.
    const until = Date.now() + limit('state');
    while (!((await platform.getOperation(started.id)).detail as unknown as StackApplyView | null)?.steps?.some((x) => x.result === 'running') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const second = await stacks.apply({ document }).catch((e: unknown) => e);
    expect(isPolyvisorError(second, 'STACK_BUSY'), String(second)).toBe(true);
    expect((second as Error).message).toMatch(new RegExp(`stack slow is locked by the daemon on \\S+ \\(pid ${d.pid}\\), apply since `));
    expect(await stacks.destroy('slow').catch((e: unknown) => (e as { code?: string }).code)).toBe('STACK_BUSY');
    const op = await finished(started);
    expect(op.status).toBe('failed');
    expect(op.error?.code).toBe('STACK_APPLY_FAILED');
    expect(op.error?.message).toContain('vm never failed (STACK_NOT_READY: VM never was not ready within 3s by agent (the guest agent answers): its guest agent does not answer');
    expect(op.error?.message).toContain(`vm badexec failed (STACK_NOT_READY: VM badexec was not ready within 3s by exec ${JSON.stringify(badexec)} (the command exits 0 in the guest): `);
    expect(op.error?.message).toContain('1 skipped (after)');
    const steps = (op.detail as unknown as StackApplyView).steps.map((x) => [x.name, x.result]);
    expect(steps).toEqual([['badexec', 'failed'], ['never', 'failed'], ['after', 'skipped']]);
    expect((await d.client.getVm('never')).state).toBe('running'); // made, kept: the next up continues from here
    expect(await d.client.getVm('after').catch((e: unknown) => (e as { code?: string }).code)).toBe('VM_NOT_FOUND');
    // Once badexec's guest is up, its command runs and exits 3: status says so, with what it printed.
    let readiness = '';
    const booted = Date.now() + limit('boot');
    while (!readiness.includes('exited') && Date.now() < booted) {
      readiness = (await stacks.status('slow')).members.find((m) => m.name === 'badexec')?.readiness ?? '';
      if (!readiness.includes('exited')) await new Promise((r) => setTimeout(r, 1000));
    }
    expect(readiness).toBe(`not ready: ${JSON.stringify(badexec)} exited 3 (no database here)`);
    const gone = await finished(await stacks.destroy('slow'));
    expect(gone.status, JSON.stringify(gone.error)).toBe('succeeded');
  }, limit('operation'));

  it('--rollback-on-failure removes what that apply created, dependants first, and keeps what existed before', async () => {
    const keep = { spec: memberSpec('64Mi') };
    const first = path.join(dir, 'rb-1.yaml');
    writeFileSync(first, stringify({ name: 'rb', vms: { keep } }));
    expect((await cli(['up', first, '--yes'])).code).toBe(0);
    const keepPid = (await d.client.getVm('keep')).runtime?.pid;
    const second = path.join(dir, 'rb-2.yaml');
    writeFileSync(second, stringify({
      name: 'rb',
      volumes: { 'rb-data': { size: '8Mi' } },
      vms: {
        keep,
        'rb-new': { spec: memberSpec('64Mi'), depends_on: ['rb-data'] },
        'rb-bad': { spec: memberSpec('64Mi'), depends_on: ['rb-new'], ready: { exec: ['/bin/false'], timeout: 2, interval: 1 } },
      },
    }));
    const r = await cli(['up', second, '--yes', '--rollback-on-failure']);
    expect(r.code, r.stdout + r.stderr).not.toBe(0);
    expect(r.stderr).toContain('STACK_APPLY_FAILED');
    expect(r.stderr).toContain('rolled back: removed vm rb-bad, vm rb-new, volume rb-data');
    // The report: the three creates, then their removal in reverse dependency order.
    const rows = r.stdout.split('\n').filter((l) => /^(vm|volume)\s/.test(l) && !/\snoop\s/.test(l)).map((l) => l.split(/\s+/).slice(0, 4).join(' '));
    expect(rows).toEqual([
      'volume rb-data create done', 'vm rb-new create done', 'vm rb-bad create failed',
      'vm rb-bad delete done', 'vm rb-new delete done', 'volume rb-data delete done',
    ]);
    expect((await d.client.getVm('keep')).runtime?.pid).toBe(keepPid); // existed before: untouched
    for (const n of ['rb-new', 'rb-bad']) expect(await d.client.getVm(n).catch((e: unknown) => (e as { code?: string }).code)).toBe('VM_NOT_FOUND');
    // The last applied state is the one before that apply again: nothing drifted, nothing missing.
    const status = await stacks.status('rb');
    expect(status.members.map((m) => [m.kind, m.name, m.state])).toEqual([['vm', 'keep', 'running']]);
    expect((await stacks.drift('rb')).drift).toEqual([]);
    expect((await finished(await stacks.destroy('rb'))).status).toBe('succeeded');
  }, limit('operation', 2));

  it('destroy removes the stack\'s VMs and their disks, and nothing else', async () => {
    const r = await cli(['stack', 'destroy', 'duo', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    const left = await d.client.listVms();
    expect(left.map((v) => v.name)).toEqual(['web-9']);
    expect(await stacks.list()).toEqual([]);
    expect(events.some((e) => e.type === 'operation' && e.operation.kind === 'stack.destroy' && e.operation.status === 'succeeded')).toBe(true);
    expect(await stacks.status('duo').catch((e: unknown) => (e as { code?: string }).code)).toBe('STACK_NOT_FOUND');
    const report = JSON.parse((await cli(['stack', 'list', '--json'])).stdout) as StackApplyView[];
    expect(report).toEqual([]);
  }, limit('operation'));
  it('the daemon killed in the middle of an apply: apply again converges without duplicates', async () => {
    const document = { name: 'crash', volumes: { 'crash-data': { size: '8Mi' } }, vms: { c1: { spec: memberSpec('128Mi'), depends_on: ['crash-data'], ready: { agent: true, timeout: Math.round(limit('boot') / 1000) } } } };
    await stacks.apply({ document });
    const deadline = Date.now() + limit('state');
    while (!(await d.client.listVms()).some((v) => v.name === 'c1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await d.kill9(); // c1 exists; its start or readiness wait was under way
    stopEvents.abort();
    d = await startDaemon({ stateDir: d.stateDir });
    stacks = new StackClient({ endpoint: { socketPath: d.socket } });
    platform = new PlatformClient({ endpoint: { socketPath: d.socket } });
    const op = await finished(await stacks.apply({ document }));
    expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
    expect((await d.client.listVms()).map((v) => v.name).sort()).toEqual(['c1', 'web-9']);
    const status = await stacks.status('crash');
    expect(status.members.map((m) => [m.kind, m.name, m.state])).toEqual([['vm', 'c1', 'running'], ['volume', 'crash-data', 'present']]);
    expect((await stacks.plan({ document })).changes.every((c) => c.action === 'noop')).toBe(true);
    expect((await finished(await stacks.destroy('crash'))).status).toBe('succeeded');
    expect((await d.client.listVms()).map((v) => v.name)).toEqual(['web-9']);
  }, limit('boot', 4));
});
