/**
 * Audit defect 7: where a move may go. A registered peer (`peer` in the body)
 * is resolved to its URL, token and fingerprint here; a raw target (`target`
 * with a URL and token) is an admin's alone, refused for everyone else before
 * anything connects anywhere. A cluster host (`host`) is resolved by the
 * cluster (its published API and the cluster's peer credential, after the
 * scheduler's filters accept it), like a registered peer: vm:migrate suffices.
 */
import { fail } from '../shared/index.js';
import type { MigrateOptions, MigrationTargetRef, PeerRegistry } from '../migration/index.js';
import type { Role } from '../spec/index.js';

/** Where a cluster host's API is, for a move of `vm` there (NOT_A_CLUSTER, HOST_NOT_FOUND, NO_HOST_FITS otherwise). */
export type ClusterMoveTargets = (vm: string, host: string) => Promise<MigrationTargetRef>;

export async function resolveMigrationTarget(opts: MigrateOptions, role: Role | undefined, peers: PeerRegistry | undefined, vm?: string, hosts?: ClusterMoveTargets): Promise<MigrateOptions> {
  const given = [opts.peer, opts.target, opts.host].filter((x) => x !== undefined).length;
  if (given > 1) fail('INVALID_BODY', 'give one of peer (a registered peer), host (a cluster host) or target (a URL and token)');
  if (opts.host !== undefined) {
    if (!hosts || vm === undefined) fail('NOT_A_CLUSTER', `this daemon runs on one host; there is no cluster host ${opts.host} to move to (use peer or target)`);
    const { host, ...rest } = opts;
    return { ...rest, target: await hosts(vm, host) };
  }
  if (opts.target !== undefined && role !== 'admin') {
    fail('MIGRATION_TARGET_NOT_ALLOWED', `role ${role ?? 'none'} may move VMs only to registered peers, not to a URL of its choosing`);
  }
  if (opts.peer === undefined) return opts;
  if (!peers) fail('PEER_NOT_FOUND', `no peer named ${opts.peer}: this daemon keeps no peers`);
  const { peer, ...rest } = opts;
  return { ...rest, target: await peers.target(peer) };
}
