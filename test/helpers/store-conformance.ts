/**
 * One behaviour suite for every Store backend (SQLite in the unit project,
 * etcd in test/etcd-store.test.ts): VMs with compare-and-set, meta, tokens and
 * the audit log. A backend supplies a fresh empty store per test and a second
 * client on the same data (another connection, another daemon).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPolyvisorError, newUuid } from '../../src/shared/index.js';
import { validateSpec } from '../../src/spec/index.js';
import type { AuditStore, MetaStore, Store, TokenStore, VmRecord } from '../../src/store/index.js';

export type FullStore = Store & MetaStore & TokenStore & AuditStore;

export interface ConformanceBackend {
  /** A fresh, empty store. */
  open(): Promise<FullStore>;
  /** A second client on the data of the last `open`. */
  another(): Promise<FullStore>;
  /** Removes the data of the last `open` (its clients are closed). */
  cleanup(): Promise<void>;
}

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

const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isPolyvisorError(e) ? e.code : e));

export function storeConformance(name: string, backend: ConformanceBackend): void {
  let store: FullStore;
  beforeEach(async () => {
    store = await backend.open();
  });
  afterEach(async () => {
    await store.close();
    await backend.cleanup();
  });

  describe(`${name} store: VMs`, () => {
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

    it('keeps who created a VM (role quotas) through updates, and none for a VM made without', async () => {
      const owner = { actor: 'alice', role: 'operator' as const };
      await store.createVm(vm('mine', { owner }));
      await store.createVm(vm('daemon'));
      expect((await store.updateVm('mine', { state: 'stopped' })).owner).toEqual(owner);
      expect((await another()).owner).toEqual(owner);
      expect((await store.getVm('daemon'))?.owner).toBeUndefined();
      expect((await store.listVms()).map((r) => r.owner?.actor ?? null)).toEqual([null, 'alice']);
      async function another() {
        const other = await backend.another();
        try {
          return (await other.getVm('mine'))!;
        } finally {
          await other.close();
        }
      }
    });

    it('refuses a duplicate name with VM_EXISTS and keeps the first', async () => {
      const first = await store.createVm(vm('web'));
      expect(await codeOf(store.createVm(vm('web', { host: 'host-b' })))).toBe('VM_EXISTS');
      expect(await store.getVm('web')).toEqual(first);
    });

    it('treats a duplicate id as a bug, not a user error', async () => {
      const a = vm('a');
      await store.createVm(a);
      const err = await store.createVm({ ...vm('b'), id: a.id }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(isPolyvisorError(err)).toBe(false);
      expect(await store.getVm('b')).toBeUndefined();
    });

    it('answers VM_NOT_FOUND for unknown names', async () => {
      expect(await codeOf(store.updateVm('ghost', { state: 'running' }))).toBe('VM_NOT_FOUND');
      expect(await codeOf(store.deleteVm('ghost'))).toBe('VM_NOT_FOUND');
      expect(await store.getVm('ghost')).toBeUndefined();
    });

    it('checks expectGeneration and leaves the record alone on mismatch', async () => {
      await store.createVm(vm('web'));
      const g2 = await store.updateVm('web', { stateReason: 'one' }, 1);
      expect(g2.generation).toBe(2);
      expect(await codeOf(store.updateVm('web', { stateReason: 'two' }, 1))).toBe('VM_BUSY');
      expect(await store.getVm('web')).toEqual(g2);
    });

    it('lets exactly one of concurrent updates with the same generation win, across two clients', async () => {
      await store.createVm(vm('web'));
      const other = await backend.another();
      try {
        const results = await Promise.allSettled([
          store.updateVm('web', { stateReason: 'a' }, 1),
          other.updateVm('web', { stateReason: 'b' }, 1),
          store.updateVm('web', { stateReason: 'c' }, 1),
          other.updateVm('web', { stateReason: 'd' }, 1),
        ]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost.map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['VM_BUSY', 'VM_BUSY', 'VM_BUSY']);
        const final = await other.getVm('web');
        expect(final?.generation).toBe(2);
        expect(final?.stateReason).toBe((won[0] as PromiseFulfilledResult<VmRecord>).value.stateReason);
      } finally {
        await other.close();
      }
    });

    it('applies every concurrent update without a generation (none lost)', async () => {
      await store.createVm(vm('web'));
      const other = await backend.another();
      try {
        await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? other : store).updateVm('web', { stateReason: `u${i}` })));
        expect((await store.getVm('web'))?.generation).toBe(9);
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
      store = await backend.another();
      expect(await store.getVm('web')).toEqual(updated);
      expect((await store.listVms({ labels: { tier: 'web' } })).length).toBe(1);
    });

    it('closes idempotently', async () => {
      await store.close();
      await store.close();
      store = await backend.another();
    });
  });

  describe(`${name} store: meta`, () => {
    it('gets, sets and initializes keys once', async () => {
      expect(await store.getMeta('host.id')).toBeUndefined();
      expect(await store.initMeta('host.id', 'h1')).toBe('h1');
      expect(await store.initMeta('host.id', 'h2')).toBe('h1');
      await store.setMeta('host.id', 'h3');
      expect(await store.getMeta('host.id')).toBe('h3');
      await store.close();
      store = await backend.another();
      expect(await store.getMeta('host.id')).toBe('h3');
    });

    it('initializes a key once when two clients race', async () => {
      const other = await backend.another();
      try {
        const got = await Promise.all([store.initMeta('cluster.id', 'a'), other.initMeta('cluster.id', 'b')]);
        expect(got[0]).toBe(got[1]);
        expect(await other.getMeta('cluster.id')).toBe(got[0]);
      } finally {
        await other.close();
      }
    });
  });

  describe(`${name} store: tokens and audit`, () => {
    it('creates, finds by hash, lists, touches and deletes tokens', async () => {
      await store.createToken({ name: 'ci', role: 'operator', hash: 'a'.repeat(64), prefix: 'pvt_abcd' });
      expect(await codeOf(store.createToken({ name: 'ci', role: 'viewer', hash: 'b'.repeat(64), prefix: 'x' }))).toBe('TOKEN_EXISTS');
      expect((await store.findTokenByHash('a'.repeat(64)))?.name).toBe('ci');
      expect(await store.findTokenByHash('b'.repeat(64))).toBeUndefined();
      expect(await store.findTokenByHash('c'.repeat(64))).toBeUndefined();
      await store.touchToken('ci', '2030-01-01T00:00:00.000Z');
      expect(await store.listTokens()).toEqual([expect.objectContaining({ name: 'ci', role: 'operator', lastUsedAt: '2030-01-01T00:00:00.000Z' })]);
      await store.deleteToken('ci');
      expect(await codeOf(store.deleteToken('ci'))).toBe('TOKEN_NOT_FOUND');
      expect(await store.listTokens()).toEqual([]);
      expect(await store.findTokenByHash('a'.repeat(64))).toBeUndefined();
    });

    it('keeps a token expiry', async () => {
      const t = await store.createToken({ name: 'tmp', role: 'viewer', hash: 'd'.repeat(64), prefix: 'pvt_d', expiresAt: '2031-01-01T00:00:00.000Z' });
      expect(t.expiresAt).toBe('2031-01-01T00:00:00.000Z');
      expect((await store.findTokenByHash('d'.repeat(64)))?.expiresAt).toBe('2031-01-01T00:00:00.000Z');
    });

    it('appends audit entries and lists them newest first with filters', async () => {
      for (let i = 0; i < 5; i++) {
        await store.appendAudit({ at: `t${i}`, actor: i % 2 ? 'ci' : 'local', action: 'POST /v1/vms', resource: `vm${i}`, outcome: 'ok', status: 201, detail: { i } });
      }
      const all = await store.listAudit();
      expect(all.map((e) => e.resource)).toEqual(['vm4', 'vm3', 'vm2', 'vm1', 'vm0']);
      expect((await store.listAudit({ actor: 'ci' })).map((e) => e.detail)).toEqual([{ i: 3 }, { i: 1 }]);
      expect((await store.listAudit({ limit: 2, before: all[1]!.id })).map((e) => e.resource)).toEqual(['vm2', 'vm1']);
      expect((await store.listAudit({ resource: 'vm0' }))[0]).toMatchObject({ actor: 'local', status: 201, outcome: 'ok' });
      expect((await store.listAudit({ since: 't3' })).map((e) => e.resource)).toEqual(['vm4', 'vm3']);
    });

    it('gives concurrent audit appends from two clients distinct ordered ids', async () => {
      const other = await backend.another();
      try {
        await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? other : store).appendAudit({ at: `t${i}`, actor: 'a', action: 'x', resource: null, outcome: 'ok', status: 200, detail: {} })));
        const ids = (await store.listAudit()).map((e) => e.id);
        expect(ids).toHaveLength(10);
        expect(new Set(ids).size).toBe(10);
        expect([...ids].sort((a, b) => b - a)).toEqual(ids);
      } finally {
        await other.close();
      }
    });

    it('finds and prunes old audit entries', async () => {
      for (let i = 0; i < 4; i++) await store.appendAudit({ at: `2020-01-0${i + 1}`, actor: 'a', action: 'x', resource: `r${i}`, outcome: 'ok', status: 200, detail: {} });
      const old = await store.auditOlderThan('2020-01-03', 10);
      expect(old.map((e) => e.resource)).toEqual(['r0', 'r1']);
      expect(await store.deleteAuditThrough(old[1]!.id)).toBe(2);
      expect((await store.listAudit()).map((e) => e.resource)).toEqual(['r3', 'r2']);
    });
  });
}
