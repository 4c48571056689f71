import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPolyvisorError, newUuid } from '../../shared/index.js';
import { validateSpec } from '../../spec/index.js';
import type { VmRecord } from '../store.js';
import { openSqliteStore, type SqliteStore } from './index.js';

function vm(name: string, over: Partial<VmRecord> = {}, labels: Record<string, string> = {}) {
  return {
    id: newUuid(),
    name,
    spec: validateSpec({ name, labels, disks: [{ name: 'root', size: '1Gi' }] }),
    state: 'created' as const,
    stateReason: '',
    host: 'host-a',
    runtime: null,
    ...over,
  };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isPolyvisorError(err) ? err.code : err).toBe(code);
}

let dir: string;
let file: string;
let store: SqliteStore;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-store-'));
  file = path.join(dir, 'state.db');
  store = openSqliteStore(file);
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('sqlite store: VMs', () => {
  it('creates, reads, updates and deletes', async () => {
    const created = await store.createVm(vm('web'));
    expect(created.generation).toBe(1);
    expect(created.createdAt).toBe(created.updatedAt);
    expect(await store.getVm('web')).toEqual(created);
    expect(created.spec.disks[0]?.size).toBe(1024 ** 3);

    const runtime = { pid: 4242, accel: 'tcg' as const, startedAt: new Date().toISOString(), qemuVersion: '7.2.22' };
    const updated = await store.updateVm('web', { state: 'running', stateReason: 'started', runtime });
    expect(updated).toMatchObject({ state: 'running', stateReason: 'started', runtime, generation: 2, host: 'host-a' });
    expect(await store.getVm('web')).toEqual(updated);

    const cleared = await store.updateVm('web', { state: 'stopped', runtime: null });
    expect(cleared.runtime).toBeNull();
    expect(cleared.stateReason).toBe('started');

    await store.deleteVm('web');
    expect(await store.getVm('web')).toBeUndefined();
    expect(await store.listVms()).toEqual([]);
  });

  it('refuses a duplicate name with VM_EXISTS and keeps the first', async () => {
    const first = await store.createVm(vm('web'));
    await rejectsWith(store.createVm(vm('web', { host: 'host-b' })), 'VM_EXISTS');
    expect(await store.getVm('web')).toEqual(first);
  });

  it('treats a duplicate id as a bug, not a user error', async () => {
    const a = vm('a');
    await store.createVm(a);
    const err = await store.createVm({ ...vm('b'), id: a.id }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(isPolyvisorError(err)).toBe(false);
  });

  it('answers VM_NOT_FOUND for unknown names', async () => {
    await rejectsWith(store.updateVm('ghost', { state: 'running' }), 'VM_NOT_FOUND');
    await rejectsWith(store.deleteVm('ghost'), 'VM_NOT_FOUND');
    expect(await store.getVm('ghost')).toBeUndefined();
  });

  it('checks expectGeneration and leaves the row alone on mismatch', async () => {
    await store.createVm(vm('web'));
    const g2 = await store.updateVm('web', { stateReason: 'one' }, 1);
    expect(g2.generation).toBe(2);
    await rejectsWith(store.updateVm('web', { stateReason: 'two' }, 1), 'VM_BUSY');
    expect(await store.getVm('web')).toEqual(g2);
  });

  it('lets exactly one of two concurrent updates with the same generation win', async () => {
    await store.createVm(vm('web'));
    const other = openSqliteStore(file); // a second connection on the same file
    try {
      const results = await Promise.allSettled([
        store.updateVm('web', { stateReason: 'a' }, 1),
        other.updateVm('web', { stateReason: 'b' }, 1),
        store.updateVm('web', { stateReason: 'c' }, 1),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost.map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['VM_BUSY', 'VM_BUSY']);
      expect((await other.getVm('web'))?.generation).toBe(2);
    } finally {
      await other.close();
    }
  });

  it('rejects a state it does not know as a bug', async () => {
    await expect(store.createVm(vm('web', { state: 'flying' as never }))).rejects.toThrow(/unknown VM state/);
    expect(await store.getVm('web')).toBeUndefined();
  });

  it('lists sorted by name and filters by host and labels', async () => {
    await store.createVm(vm('zeta', { host: 'host-b' }, { tier: 'db', 'app.example.com/team': 'blue' }));
    await store.createVm(vm('alpha', {}, { tier: 'web', 'app.example.com/team': 'blue' }));
    await store.createVm(vm('mid', {}, { tier: 'db' }));
    await store.createVm(vm('bare'));
    const names = (rs: VmRecord[]) => rs.map((r) => r.name);

    expect(names(await store.listVms())).toEqual(['alpha', 'bare', 'mid', 'zeta']);
    expect(names(await store.listVms({ host: 'host-a' }))).toEqual(['alpha', 'bare', 'mid']);
    expect(names(await store.listVms({ host: 'nowhere' }))).toEqual([]);
    expect(names(await store.listVms({ labels: { tier: 'db' } }))).toEqual(['mid', 'zeta']);
    expect(names(await store.listVms({ labels: { 'app.example.com/team': 'blue' } }))).toEqual(['alpha', 'zeta']);
    expect(names(await store.listVms({ labels: { tier: 'db', 'app.example.com/team': 'blue' } }))).toEqual(['zeta']);
    expect(names(await store.listVms({ host: 'host-a', labels: { tier: 'db' } }))).toEqual(['mid']);
    expect(names(await store.listVms({ labels: { tier: 'DB' } }))).toEqual([]);
    expect(names(await store.listVms({ labels: { 'we"ird': 'x' } }))).toEqual([]);
    expect(names(await store.listVms({ labels: {} }))).toEqual(['alpha', 'bare', 'mid', 'zeta']);
  });

  it('keeps everything across close and reopen', async () => {
    await store.createVm(vm('web', {}, { tier: 'web' }));
    const updated = await store.updateVm('web', { state: 'stopped', stateReason: 'guest powered off' });
    await store.close();
    store = openSqliteStore(file);
    expect(await store.getVm('web')).toEqual(updated);
    expect((await store.listVms({ labels: { tier: 'web' } })).length).toBe(1);
  });

  it('closes idempotently', async () => {
    await store.close();
    await store.close();
    store = openSqliteStore(file);
  });
});

describe('sqlite store: meta', () => {
  it('gets, sets and initializes keys once', async () => {
    expect(await store.getMeta('host.id')).toBeUndefined();
    expect(await store.initMeta('host.id', 'h1')).toBe('h1');
    expect(await store.initMeta('host.id', 'h2')).toBe('h1');
    await store.setMeta('host.id', 'h3');
    expect(await store.getMeta('host.id')).toBe('h3');
    await store.close();
    store = openSqliteStore(file);
    expect(await store.getMeta('host.id')).toBe('h3');
  });
});
