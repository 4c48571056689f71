/**
 * Cluster membership for the stub stacks: the real Membership rules over an
 * in-memory key-value store; what needs etcd or another daemon (opening etcd
 * for init, a member admitting this host, etcd health) answers as a healthy
 * cluster would. The real thing runs in test/cluster-drain.test.ts.
 */
import path from 'node:path';
import { Membership, PEER_TOKEN_SECRET, type HostDirectory } from '../../src/cluster/index.js';
import type { VmService } from '../../src/lifecycle/index.js';
import type { SecretStore } from '../../src/secrets/index.js';
import type { ClusterKv } from '../../src/store/index.js';
import { clusterFileOf } from '../../src/daemon/cluster-file.js';
import { memKv } from './mem-kv.js';

export async function stubMembership(o: { kv: ClusterKv; directory: HostDirectory; secrets: SecretStore; dir: string; service: VmService }): Promise<Membership> {
  await o.secrets.set(PEER_TOKEN_SECRET, 'pvt_stub-peer-token');
  const endpoints = ['http://127.0.0.1:2379'];
  return new Membership({
    host: 'h',
    cluster: { kv: o.kv, prefix: o.directory.prefix, endpoints, leaseTtlSeconds: 10, directory: o.directory, leave: async () => undefined },
    vms: async () => [], // leave is asked with nothing owned (the stub's VMs belong to the other tests)
    allVms: () => o.service.listAll(),
    secrets: o.secrets,
    settings: clusterFileOf(path.join(o.dir)),
    open: async () => ({ kv: memKv(), seed: async () => ({ vms: 0, tokens: 0 }), mintPeerToken: async () => 'pvt_stub-peer-token', close: async () => undefined }),
    askToJoin: async () => ({ endpoints, prefix: o.directory.prefix, leaseTtlSeconds: 10, peerToken: 'pvt_stub-peer-token' }),
    health: async (eps) => eps.map((endpoint) => ({ endpoint, healthy: true, error: null })),
  });
}
