/**
 * Authentication and authorization hooks. The unix socket (mode 0600, the
 * daemon's user) is trusted as the admin "local"; a TCP listener requires a
 * bearer token on every route whose permission is not "public", unknown
 * routes included (so a 404 reveals nothing to strangers).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PolyvisorError } from '../../shared/index.js';
import { isPermission, roleAllows, rolesWith } from './permissions.js';
import { LOCAL_ADMIN, type Principal } from './principal.js';
import type { RateLimiter } from './rate-limit.js';
import { forwardedPrincipal, type ForwardedIdentityOptions } from './forwarded-identity.js';
import { TokenService } from './tokens.js';

export interface AuthOptions {
  listener: 'unix' | 'tcp';
  tokens: TokenService;
  /** Per token. */
  limiter: RateLimiter;
  /** Per remote address, for requests without a token. */
  failures: RateLimiter;
  /**
   * Per remote address, for requests with a wrong token (guesses): once it is
   * empty, every request with a token from that address is refused with
   * AUTH_RATE_LIMITED before the token is even checked.
   */
  badTokens: RateLimiter;
  /** A cluster host: requests other hosts forward with the peer credential run as their original caller (forwarded-identity.ts). */
  forwarded?: ForwardedIdentityOptions;
}

/** Refuses to register any route that does not declare a known permission. */
export function requirePermissions(app: FastifyInstance): void {
  app.addHook('onRoute', (r) => {
    const p = (r.config as { permission?: unknown } | undefined)?.permission;
    if (!isPermission(p)) {
      throw new Error(`route ${String(r.method)} ${r.url} declares no valid permission (config.permission = ${JSON.stringify(p)})`);
    }
  });
}

/** Token from `Authorization: Bearer …`, or for browsers' WebSockets the subprotocol `bearer.TOKEN`. */
export function tokenOf(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    return m ? m[1] : '';
  }
  const proto = req.headers['sec-websocket-protocol'];
  if (typeof proto === 'string') {
    const t = proto.split(',').map((s) => s.trim()).find((s) => s.startsWith('bearer.'));
    if (t) return t.slice('bearer.'.length);
  }
  return undefined;
}

export function installAuth(app: FastifyInstance, o: AuthOptions): void {
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const permission = req.routeOptions.config?.permission;
    if (o.listener === 'unix') {
      req.principal = LOCAL_ADMIN;
      return;
    }
    if (permission === 'public') return;
    const token = tokenOf(req);
    const source = `ip:${req.ip}`;
    if (token !== undefined) {
      const blocked = o.badTokens.peek(source);
      if (blocked > 0) throw limited(reply, blocked, 'too many wrong tokens from this address', 'AUTH_RATE_LIMITED');
    }
    const rec = token ? await o.tokens.verify(token) : undefined;
    if (!rec) {
      if (token === undefined) {
        const wait = o.failures.take(source);
        if (wait > 0) throw limited(reply, wait, 'too many requests without a token from this address');
        throw new PolyvisorError('UNAUTHENTICATED', 'this route needs an API token');
      }
      const wait = o.badTokens.take(source);
      if (wait > 0) throw limited(reply, wait, 'too many wrong tokens from this address', 'AUTH_RATE_LIMITED');
      throw new PolyvisorError('UNAUTHENTICATED', 'the API token is not valid (mistyped, or revoked)');
    }
    if (TokenService.expired(rec)) {
      throw new PolyvisorError('TOKEN_EXPIRED', `the API token ${rec.name} expired at ${rec.expiresAt}`);
    }
    const principal: Principal = (await forwardedPrincipal(req, rec, o.forwarded)) ?? { actor: rec.name, role: rec.role, via: 'tcp' };
    req.principal = principal;
    const wait = o.limiter.take(`token:${principal.actor}`);
    if (wait > 0) throw limited(reply, wait, `token ${principal.actor} sent too many requests`);
    if (permission !== undefined && !roleAllows(principal.role, permission)) {
      throw new PolyvisorError('FORBIDDEN', `role ${principal.role} (token ${principal.actor}${principal.forwardedBy ? `, forwarded by ${principal.forwardedBy}` : ''}) may not do this: it needs ${permission}, held by ${rolesWith(permission).join(', ')}`);
    }
  });
}

function limited(reply: FastifyReply, seconds: number, message: string, code: 'RATE_LIMITED' | 'AUTH_RATE_LIMITED' = 'RATE_LIMITED'): PolyvisorError {
  void reply.header('retry-after', String(seconds));
  return new PolyvisorError(code, message);
}
