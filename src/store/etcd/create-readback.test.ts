/**
 * A VM create whose answer is lost after etcd applied it (its leader killed
 * between the commit and the reply) is not reported as failed: the store
 * reads the VM's new id key back. A stand-in for etcd's JSON gateway on
 * 127.0.0.1 (no etcd runs in unit tests; test/cluster-faults.test.ts kills a
 * real leader during creates) applies each transaction, then drops the
 * connection for the ones the test picks, as a dying member does.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { VmRecord } from '../store.js';
import { b64, unb64 } from './codec.js';
import { openEtcdStore } from './etcd-store.js';

interface Gateway { url: string; kv: Map<string, string>; dropTxn: boolean; failReads: number; close(): Promise<void> }

async function gateway(): Promise<Gateway> {
  const g = { kv: new Map<string, string>(), dropTxn: false, failReads: 0 } as Gateway;
  let rev = 1;
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const b = JSON.parse(body) as { key?: string; compare?: Array<{ key: string }>; success?: Array<{ request_put?: { key: string; value: string } }> };
      if (req.url === '/v3/kv/range') {
        if (g.failReads > 0) {
          g.failReads--;
          return void res.writeHead(503).end(JSON.stringify({ error: 'etcdserver: no leader', code: 14 }));
        }
        const v = g.kv.get(unb64(b.key));
        return void res.end(JSON.stringify({ header: { revision: String(rev) }, kvs: v === undefined ? [] : [{ key: b.key, value: b64(v), create_revision: '1', mod_revision: '1', version: '1' }] }));
      }
      if (req.url === '/v3/kv/txn') {
        const ok = (b.compare ?? []).every((c) => !g.kv.has(unb64(c.key)));
        if (ok) for (const op of b.success ?? []) if (op.request_put) g.kv.set(unb64(op.request_put.key), unb64(op.request_put.value));
        rev++;
        if (g.dropTxn) return void req.socket.destroy(); // applied, and the answer never comes
        return void res.end(JSON.stringify({ header: { revision: String(rev) }, succeeded: ok, responses: [] }));
      }
      res.writeHead(404).end('{}');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  g.url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  g.close = () => new Promise((r) => srv.close(() => r()));
  return g;
}

const input = (name: string): Omit<VmRecord, 'createdAt' | 'updatedAt' | 'generation'> => ({
  id: `00000000-0000-4000-8000-00000000000${name.length}`, name, state: 'created', stateReason: 'created', host: 'h1', runtime: null,
  spec: { name } as unknown as VmRecord['spec'],
});

let open: Gateway | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

describe('EtcdStore.createVm when the answer is lost', () => {
  it('returns the record the store applied (found by its id key), even when the first read-back finds no leader', async () => {
    open = await gateway();
    const store = openEtcdStore({ endpoints: [open.url], timeoutMs: 2000, prefix: '/t/' });
    open.dropTxn = true;
    open.failReads = 2;
    const rec = await store.createVm(input('a'));
    expect(rec).toMatchObject({ name: 'a', generation: 1 });
    expect(open.kv.get('/t/vm-ids/00000000-0000-4000-8000-000000000001')).toBe('a');
    await store.close();
  });

  it('still fails with STORE_UNAVAILABLE when the transaction was not applied', async () => {
    open = await gateway();
    const store = openEtcdStore({ endpoints: [open.url], timeoutMs: 1000, prefix: '/t/' });
    open.kv.set('/t/vms/b', '{}'); // the compare fails: nothing of this create is written
    open.dropTxn = true;
    await expect(store.createVm(input('b'))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(open.kv.has('/t/vm-ids/00000000-0000-4000-8000-000000000001')).toBe(false);
    await store.close();
  });
});
