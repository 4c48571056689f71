import type { FastifyInstance } from 'fastify';
import { withCaller } from '../shared/index.js';

/**
 * Runs the rest of each authenticated request (its handler and the
 * operations it starts) with its caller in effect (shared/caller-context.ts),
 * so the services can weigh who asked: VM owners and role quotas. Registered
 * after the auth hook.
 */
export function installCallerContext(app: FastifyInstance): void {
  app.addHook('preHandler', (req, _reply, done) => {
    const p = req.principal;
    if (!p) {
      done();
      return;
    }
    withCaller({ actor: p.actor, role: p.role }, done);
  });
}
