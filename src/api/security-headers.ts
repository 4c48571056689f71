/**
 * Headers on every answer, API and web UI alike, refusals included: no
 * framing (clickjacking), no MIME sniffing, no referrer, and a CSP that lets
 * an API answer opened in a browser run nothing. The web UI's routes replace
 * the CSP with theirs (routes/ui.ts: scripts from the daemon, fetch and
 * WebSockets to the same origin). Set on the raw response, so the event
 * stream, which writes its own head, carries them too.
 */
import type { FastifyInstance } from 'fastify';

export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': API_CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', async (_req, reply) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.raw.setHeader(k, v);
  });
}
