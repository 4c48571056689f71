/**
 * What every listener of one daemon shares: tokens, the rate limiters, the
 * operations, the event bus and the audit log. Built once by the daemon and
 * passed to buildApi for the unix socket and for each TCP listener.
 */
import { OperationRegistry, type VmService } from '../lifecycle/index.js';
import type { Logger } from '../shared/index.js';
import type { AuditStore, TokenStore } from '../store/index.js';
import { AuditLog } from './audit-log.js';
import { RateLimiter } from './auth/rate-limit.js';
import { TokenService } from './auth/tokens.js';
import { EventBus } from './event-bus.js';

export interface PlatformOptions {
  service: VmService;
  store: TokenStore & AuditStore;
  logger: Logger;
  /** Requests per second per token on TCP (bursts of twice that); 0 turns the limit off. Default 50. */
  rateLimitPerSecond?: number;
  /** Wrong tokens per minute per source address (bursts of that many) before AUTH_RATE_LIMITED; 0 turns it off. Default 10. */
  authFailuresPerMinute?: number;
}

export interface ApiPlatform {
  readonly tokens: TokenService;
  readonly operations: OperationRegistry;
  readonly events: EventBus;
  readonly audit: AuditLog;
  readonly auditStore: AuditStore;
  readonly limiter: RateLimiter;
  readonly failures: RateLimiter;
  readonly badTokens: RateLimiter;
  close(): Promise<void>;
}

export function createApiPlatform(o: PlatformOptions): ApiPlatform {
  const rate = o.rateLimitPerSecond ?? 50;
  const badPerMinute = o.authFailuresPerMinute ?? 10;
  const operations = new OperationRegistry();
  const events = new EventBus(o.service.states, operations);
  const audit = new AuditLog(o.store, o.logger.child({ component: 'audit' }));
  const onOp = (op: Parameters<AuditLog['operationFinished']>[0]): void => {
    if (op.finishedAt !== null) audit.operationFinished(op);
  };
  operations.on('operation', onOp);
  return {
    tokens: new TokenService(o.store),
    operations,
    events,
    audit,
    auditStore: o.store,
    limiter: new RateLimiter(rate, rate * 2),
    // Requests without a token, per remote address: a tenth of the token rate (at least 5/s), bursts of the rate (at least 20).
    failures: new RateLimiter(rate > 0 ? Math.max(5, rate / 10) : 0, Math.max(20, rate)),
    badTokens: new RateLimiter(badPerMinute / 60, badPerMinute),
    // Running operations are not cancelled: the VmService finishes its queued jobs on shutdown.
    close: async () => {
      operations.off('operation', onOp);
      events.close();
    },
  };
}
