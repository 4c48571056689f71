/**
 * An in-memory ClusterKv for the stub stacks (no etcd there): get, range,
 * put and delete with revisions, and transactions comparing revisions or
 * values; leases and watches are not modelled and throw. The real thing is tested on etcd (test/etcd-*.test.ts).
 */
import type { ClusterKv, KeyValue, KvCompare, KvOp } from '../../src/store/index.js';

export function memKv(): ClusterKv {
  const data = new Map<string, KeyValue>();
  let revision = 0;
  const no = (what: string) => () => { throw new Error(`memKv: ${what} is not modelled (use etcd)`); };
  return {
    async get(key) { return data.get(key); },
    async range(key, o = {}) {
      const kvs = [...data.values()].filter((k) => (o.prefix ? k.key.startsWith(key) : k.key === key)).sort((a, b) => a.key.localeCompare(b.key));
      return { kvs: o.descending ? kvs.reverse() : kvs, revision };
    },
    async put(key, value, o = {}) {
      revision++;
      const cur = data.get(key);
      data.set(key, { key, value, createRevision: cur?.createRevision ?? revision, modRevision: revision, version: (cur?.version ?? 0) + 1, lease: o.lease ?? '0' });
      return revision;
    },
    async delete(key, o = {}) {
      let n = 0;
      for (const k of [...data.keys()]) if (o.prefix ? k.startsWith(key) : k === key) { data.delete(k); n++; }
      if (n) revision++;
      return n;
    },
    async txn(compare, success, failure = []) {
      const holds = (c: KvCompare): boolean => {
        const k = data.get(c.key);
        if (c.target === 'value') return c.op === '=' ? k?.value === c.value : k?.value !== c.value;
        const have = c.target === 'create' ? k?.createRevision ?? 0 : c.target === 'mod' ? k?.modRevision ?? 0 : k?.version ?? 0;
        return c.op === '=' ? have === c.value : c.op === '!=' ? have !== c.value : c.op === '<' ? have < c.value : have > c.value;
      };
      const ok = compare.every(holds);
      const gets: KeyValue[][] = [];
      for (const op of (ok ? success : failure) as KvOp[]) {
        if ('put' in op) await this.put(op.put, op.value, op.lease ? { lease: op.lease } : {});
        else if ('delete' in op) await this.delete(op.delete, { prefix: op.prefix === true });
        gets.push('get' in op ? (await this.range(op.get, { prefix: op.prefix === true })).kvs : []);
      }
      return { succeeded: ok, revision, gets };
    },
    grantLease: no('grantLease'), keepAliveOnce: no('keepAliveOnce'), revokeLease: no('revokeLease'), watch: no('watch'),
    async close() {},
  };
}
