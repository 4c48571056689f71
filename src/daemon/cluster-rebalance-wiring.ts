/**
 * The rebalance's moves, and `vm migrate --host`, on a cluster host (cluster/rebalance.ts): a VM this
 * host owns moves by the daemon-to-daemon migration to the target's published
 * API with the cluster's peer credential (as a drain moves it); a VM another
 * host owns is moved by that host — its migrate route is called through the
 * write-forwarding transport as the caller (the owner checks the caller's
 * role again), with the same target.
 */
import { apiOf, checkNamedHost, PEER_TOKEN_SECRET, Rebalancer, type HostsService } from '../cluster/index.js';
import type { VmService } from '../lifecycle/index.js';
import type { MigrationService } from '../migration/index.js';
import type { SecretStore } from '../secrets/index.js';
import { fail, isErrorCode, PolyvisorError } from '../shared/index.js';
import type { ClusterMoveTargets, OwnerForwarder } from '../api/index.js';
import type { ClusterHost } from './cluster-wiring.js';

export function wireRebalance(o: { cluster: ClusterHost; service: VmService; migrations: MigrationService; secrets: SecretStore; forwarder: OwnerForwarder; host: string }): Rebalancer {
  return new Rebalancer({
    vms: () => o.service.listAll(),
    hosts: (vms) => o.cluster.directory.list(vms),
    live: () => o.cluster.directory.live(),
    move: async (vm, from, to, caller, signal) => {
      if (!o.secrets.has(PEER_TOKEN_SECRET)) fail('MIGRATION_FAILED', `this host has no cluster peer credential (secret ${PEER_TOKEN_SECRET}); it is made by cluster init and handed over by cluster join`);
      const target = { ...apiOf(to), token: await o.secrets.reveal(PEER_TOKEN_SECRET) };
      if (from === o.host) return void await o.migrations.migrate(vm, { target }, undefined, signal);
      const owner = await o.forwarder.locate(from);
      if (!owner) fail('HOST_UNREACHABLE', `VM ${vm} runs on host ${from}, which is not live or publishes no API URL`);
      const a = await o.forwarder.send(owner, { method: 'POST', path: `/v1/vms/${encodeURIComponent(vm)}/migrate`, body: JSON.stringify({ target }), forwardedBy: o.host, onBehalfOf: caller });
      if (a.status >= 300) {
        const e = (() => { try { return JSON.parse(a.body.toString('utf8')) as { code?: string; message?: string }; } catch { return {}; } })();
        throw new PolyvisorError(e.code && isErrorCode(e.code) ? e.code : 'MIGRATION_FAILED', `${from} could not move VM ${vm} to ${to.name}: ${e.message ?? `HTTP ${a.status}`}`);
      }
    },
  });
}

/**
 * `vm migrate NAME --host H` on the VM's owner: the cluster host H as a
 * migration target (its published API, the cluster's peer credential), once
 * the scheduler's filters accept it for the VM (capacity, cordon, pools,
 * anti-affinity), as schedule explain shows them.
 */
export function clusterMoveTargets(o: { cluster: ClusterHost; secrets: SecretStore; hosts: HostsService; host: string }): ClusterMoveTargets {
  return async (vm, host) => {
    if (host === o.host) fail('INVALID_ARGUMENT', `VM ${vm} already runs on host ${host}; name another host (polyvisor host list)`);
    checkNamedHost(await o.hosts.explain({ vm }), host, 'name a host of `polyvisor host list`');
    const to = (await o.cluster.directory.live()).find((h) => h.name === host);
    if (!to) fail('HOST_UNREACHABLE', `host ${host} is not live in the cluster`);
    if (!o.secrets.has(PEER_TOKEN_SECRET)) fail('MIGRATION_FAILED', `this host has no cluster peer credential (secret ${PEER_TOKEN_SECRET}); it is made by cluster init and handed over by cluster join`);
    return { ...apiOf(to), token: await o.secrets.reveal(PEER_TOKEN_SECRET) };
  };
}
