/**
 * The state check of the API fuzz (issue 23, test/helpers/full-stub-stack.ts
 * stateReader): read after every fuzzed request, it must see any change a
 * refused request could make to a VM, token or secret. One change is planted
 * in each table behind the API's back (the store and secret store directly)
 * and each is seen; reads with nothing changed, and the audit rows every
 * request appends, compare equal. The same for the quick read (the change
 * counter kept by triggers, read after every fuzzed request): it moves on
 * each planted change and not on audit rows or a token's last use.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryTmp, openFullStubStack, stateReader, type FullStubStack } from '../../test/helpers/full-stub-stack.js';
import { newUuid } from '../shared/index.js';
import { validateSpec } from '../spec/index.js';

let stack: FullStubStack;
let reader: ReturnType<typeof stateReader>;

beforeAll(async () => {
  stack = await openFullStubStack('fuzz-state', 'unix', memoryTmp());
  await stack.api.app.ready();
  reader = stateReader(stack);
  await stack.store.createVm({ id: newUuid(), name: 'a', spec: validateSpec({ name: 'a', disks: [{ name: 'root', size: '1Gi' }] }), state: 'created', stateReason: '', host: 'h', runtime: null });
  await stack.platform.tokens.create('t', 'viewer');
  await stack.secrets.set('s', 'v1');
}, 60_000);
afterAll(async () => {
  reader?.close();
  await stack?.close();
});

/** Whether `change` made [the full read, the quick read] differ from the one before it: both must see every change, neither a non-change. */
async function seen(change: () => Promise<unknown>): Promise<[boolean, boolean]> {
  const before = [await reader.read(), await reader.quick()];
  await change();
  return [(await reader.read()) !== before[0], (await reader.quick()) !== before[1]];
}

describe('the fuzz state reader', () => {
  it('is stable when nothing changed, including across requests that only add audit rows', async () => {
    expect(await seen(async () => undefined)).toEqual([false, false]);
    expect(await seen(async () => {
      for (const url of ['/v1/vms', '/v1/vms/nope', '/v1/tokens']) expect((await stack.api.app.inject({ method: 'GET', url })).statusCode).toBeLessThan(500);
      expect((await stack.api.app.inject({ method: 'POST', url: '/v1/vms', payload: { name: '../x' } })).statusCode).toBe(400);
    })).toEqual([false, false]);
  });

  it('sees a changed VM field, a state, a removed and an added VM', async () => {
    const vm = (await stack.store.getVm('a'))!;
    expect(await seen(() => stack.store.updateVm('a', { spec: { ...vm.spec, description: `${vm.spec.description}planted` } }))).toEqual([true, true]);
    expect(await seen(() => stack.store.updateVm('a', { stateReason: 'planted' }))).toEqual([true, true]);
    expect(await seen(() => stack.store.updateVm('a', { runtime: { pid: 1 } as never }))).toEqual([true, true]);
    expect(await seen(() => stack.store.createVm({ id: newUuid(), name: 'b', spec: validateSpec({ name: 'b', disks: [{ name: 'root', size: '1Gi' }] }), state: 'created', stateReason: '', host: 'h', runtime: null }))).toEqual([true, true]);
    expect(await seen(() => stack.store.deleteVm('b'))).toEqual([true, true]);
  });

  it('a token\'s last use (a successful authentication touches it) is not a change; its role is', async () => {
    expect(await seen(() => stack.store.touchToken('t', new Date(Date.now() + 60_000).toISOString()))).toEqual([false, false]);
    expect(await seen(async () => {
      await stack.store.deleteToken('t');
      await stack.platform.tokens.create('t', 'admin');
    })).toEqual([true, true]);
    expect(await seen(async () => {
      await stack.store.deleteToken('t');
      await stack.platform.tokens.create('t', 'viewer');
    })).toEqual([true, true]);
  });

  it('sees an added, a removed and a re-made token (same name and role, new hash)', async () => {
    expect(await seen(() => stack.platform.tokens.create('u', 'admin'))).toEqual([true, true]);
    expect(await seen(() => stack.platform.tokens.revoke('u'))).toEqual([true, true]);
    expect(await seen(async () => {
      await stack.store.deleteToken('t');
      await stack.platform.tokens.create('t', 'viewer');
    })).toEqual([true, true]);
  });

  it('sees a secret added, replaced (same name) and removed', async () => {
    expect(await seen(() => stack.secrets.set('s2', 'x'))).toEqual([true, true]);
    expect(await seen(async () => {
      await new Promise((r) => setTimeout(r, 5)); // a replaced value is seen by its new updatedAt (ms): make it differ
      await stack.secrets.set('s', 'v2');
    })).toEqual([true, true]);
    expect(await seen(() => stack.secrets.remove('s2'))).toEqual([true, true]);
  });
});
