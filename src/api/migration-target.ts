/**
 * Audit defect 7: where a move may go. A registered peer (`peer` in the body)
 * is resolved to its URL, token and fingerprint here; a raw target (`target`
 * with a URL and token) is an admin's alone, refused for everyone else before
 * anything connects anywhere.
 */
import { fail } from '../shared/index.js';
import type { MigrateOptions, PeerRegistry } from '../migration/index.js';
import type { Role } from '../spec/index.js';

export async function resolveMigrationTarget(opts: MigrateOptions, role: Role | undefined, peers: PeerRegistry | undefined): Promise<MigrateOptions> {
  if (opts.peer !== undefined && opts.target !== undefined) fail('INVALID_BODY', 'give either peer (a registered peer) or target (a URL and token), not both');
  if (opts.target !== undefined && role !== 'admin') {
    fail('MIGRATION_TARGET_NOT_ALLOWED', `role ${role ?? 'none'} may move VMs only to registered peers, not to a URL of its choosing`);
  }
  if (opts.peer === undefined) return opts;
  if (!peers) fail('PEER_NOT_FOUND', `no peer named ${opts.peer}: this daemon keeps no peers`);
  const { peer, ...rest } = opts;
  return { ...rest, target: await peers.target(peer) };
}
