/**
 * The owner's side of write forwarding (api/owner-forward.ts): a request
 * authenticated with the cluster's peer credential that names an original
 * caller (`x-polyvisor-on-behalf-of`) runs as that caller. What the header
 * may claim is bounded: a token that exists in the shared token store and has
 * not expired — its role is read from the store, never from the header — or
 * `local`, the forwarding host's own unix socket (its root, an admin like
 * ours). Only the credential named `peerTokenName` (role peer) may speak for
 * others, only for VM routes (and a create the member placed here), and only
 * once (FORWARDED_BY names the host).
 */
import type { FastifyRequest } from 'fastify';
import { PolyvisorError, NAME_PATTERN } from '../../shared/index.js';
import type { TokenRecord } from '../../store/index.js';
import { FORWARDED_BY_HEADER, ON_BEHALF_OF_HEADER } from '../owner-forward.js';
import type { Principal } from './principal.js';
import { TokenService } from './tokens.js';

export interface ForwardedIdentityOptions {
  /** The name of the cluster's peer credential (daemon: `cluster-peer`). */
  peerTokenName: string;
  /** A token's record by name, from the shared (cluster) token store. */
  tokenByName(name: string): Promise<TokenRecord | undefined>;
}

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
};

/**
 * The principal a forwarded request runs as, or undefined when the request
 * names no other caller (it then runs as the credential itself).
 */
export async function forwardedPrincipal(req: FastifyRequest, credential: TokenRecord, o: ForwardedIdentityOptions | undefined): Promise<Principal | undefined> {
  const claim = header(req, ON_BEHALF_OF_HEADER);
  if (claim === undefined) return undefined;
  const refuse = (m: string) => new PolyvisorError('FORBIDDEN', `a forwarded request was refused: ${m}`);
  if (!o || credential.name !== o.peerTokenName || credential.role !== 'peer') throw refuse(`only the cluster's peer credential may act on behalf of another caller (token ${credential.name} may not)`);
  const by = header(req, FORWARDED_BY_HEADER);
  if (by === undefined || !NAME_PATTERN.test(by)) throw refuse(`it names no forwarding host (${FORWARDED_BY_HEADER})`);
  const route = req.routeOptions.url ?? '';
  const create = route === '/v1/vms' && req.method === 'POST'; // vm create --host: the member placed it here
  if (!route.startsWith('/v1/vms/:name') && !create) throw refuse(`only requests to a VM (/v1/vms/NAME…, or POST /v1/vms placed on this host) are forwarded, not ${req.method} ${route || req.url}`);
  if (claim === 'local') return { actor: `local@${by}`, role: 'admin', via: 'tcp', forwardedBy: by };
  const m = /^token:(.+)$/.exec(claim);
  if (!m || !NAME_PATTERN.test(m[1]!)) throw refuse(`${ON_BEHALF_OF_HEADER} must be "local" or "token:NAME"`);
  const name = m[1]!;
  if (name === o.peerTokenName) throw refuse('the peer credential cannot be forwarded on its own behalf');
  const rec = await o.tokenByName(name);
  if (!rec) throw new PolyvisorError('UNAUTHENTICATED', `host ${by} forwarded a request of token ${name}, which does not exist in the cluster (revoked?)`);
  if (TokenService.expired(rec)) throw new PolyvisorError('TOKEN_EXPIRED', `the API token ${rec.name} expired at ${rec.expiresAt}`);
  return { actor: rec.name, role: rec.role, via: 'tcp', forwardedBy: by };
}
