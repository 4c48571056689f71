import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateSpec } from '../spec/index.js';
import { openStubStack, type StubStack } from '../../test/helpers/stub-stack.js';

/** A record owned by another host, as a cluster store holds them (the stub stack's host is "h"). */
let s: StubStack;
beforeAll(async () => {
  s = await openStubStack('owner-guard', { listener: 'unix', rateLimitPerSecond: 0 });
  await s.service.create(validateSpec({ name: 'mine', disks: [{ name: 'root', size: '1Gi' }] }));
  await s.service.create(validateSpec({ name: 'theirs', disks: [{ name: 'root', size: '1Gi' }] }));
  await s.store.updateVm('theirs', { host: 'h2' });
});
afterAll(async () => {
  await s?.close();
});

const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
  s.api.app.inject({ method, url, ...(payload !== undefined ? { payload: payload as object } : {}) });

describe('owner guard (cluster: only a VM\'s host acts on it)', () => {
  it('refuses writes to a VM another host owns with VM_ON_OTHER_HOST naming the owner; nothing changes', async () => {
    for (const [method, url, body] of [
      ['POST', '/v1/vms/theirs/start', undefined],
      ['DELETE', '/v1/vms/theirs', undefined],
      ['PUT', '/v1/vms/theirs', { spec: { name: 'theirs', memory: '256Mi', disks: [{ name: 'root', size: '1Gi' }] } }],
    ] as const) {
      const r = await call(method, url, body);
      expect(r.statusCode, `${method} ${url}`).toBe(409);
      const e = r.json() as { code: string; message: string; hint: string };
      expect(e.code).toBe('VM_ON_OTHER_HOST');
      expect(e.message).toMatch(/runs on host h2, not on h/);
      expect(e.hint).toMatch(/remote add h2/);
    }
    const rec = (await s.service.find('theirs'))!;
    expect(rec.state).toBe('created');
    expect(rec.host).toBe('h2');
  });

  it('reads answer from any host; this host\'s own VMs are not affected', async () => {
    expect((await call('GET', '/v1/vms/theirs')).statusCode).toBe(200);
    const removed = await call('DELETE', '/v1/vms/mine');
    expect(removed.statusCode, removed.body).toBeLessThan(300);
    expect(await s.service.find('mine')).toBeUndefined();
  });
});
