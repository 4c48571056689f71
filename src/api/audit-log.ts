/**
 * The audit log: every request that changes something (any method but
 * GET/HEAD), every console attach, every refusal (401/403/429), and the end of
 * every operation, with who, what, which resource, when and the outcome.
 * Tokens never reach it: the actor is the token's name.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from '../shared/index.js';
import type { OperationView } from '../spec/index.js';
import type { AuditEntry, AuditStore } from '../store/index.js';

export class AuditLog {
  constructor(
    private readonly store: AuditStore,
    private readonly log: Logger,
  ) {}

  record(e: Omit<AuditEntry, 'at'>): void {
    this.store.appendAudit({ ...e, at: new Date().toISOString() }).catch((err: unknown) => this.log.error({ err }, 'could not write the audit log'));
  }

  /** The end of an operation, in the name of whoever started it. */
  operationFinished(op: OperationView): void {
    this.record({
      actor: op.actor, action: `operation ${op.kind}`, resource: op.vm, status: op.status === 'succeeded' ? 200 : 500,
      outcome: op.status === 'succeeded' ? 'ok' : 'failed',
      detail: { operation: op.id, status: op.status, ...(op.error ? { code: op.error.code } : {}) },
    });
  }

  /** Audit entry of a request as it ends (or, for a WebSocket, as it is upgraded: status 101). */
  request(req: FastifyRequest, status: number, ms: number): void {
    const params = (req.params ?? {}) as Record<string, string>;
    const pattern = req.routeOptions.url ?? req.url.split('?')[0]!;
    const action = `${req.method} ${pattern.replace(/:action\b/, params['action'] ?? ':action')}`;
    const outcome = status === 401 || status === 403 || status === 429 ? 'denied' : status >= 400 ? 'failed' : 'ok';
    this.record({
      actor: req.principal?.actor ?? 'anonymous',
      action,
      resource: params['name'] ?? params['id'] ?? null,
      outcome,
      status,
      detail: {
        remote: req.ip || 'unix',
        ms: Math.round(ms),
        ...(req.principal ? { role: req.principal.role, via: req.principal.via } : {}),
        ...(req.principal?.forwardedBy ? { forwardedBy: req.principal.forwardedBy } : {}),
        ...(req.forwardedTo ? { forwardedTo: req.forwardedTo } : {}),
        ...(req.errorCode ? { code: req.errorCode } : {}),
      },
    });
  }
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function installAuditHook(app: FastifyInstance, audit: AuditLog): void {
  app.addHook('onResponse', async (req, reply) => {
    const s = reply.statusCode;
    if (!READS.has(req.method) || s === 401 || s === 403 || s === 429) audit.request(req, s, reply.elapsedTime);
  });
  // WebSocket upgrades are hijacked (no onResponse): record the attach once authorized.
  app.addHook('preHandler', async (req) => {
    if ((req as { ws?: boolean }).ws) audit.request(req, 101, 0);
  });
}
