import { LogController, type FastifyInstance } from 'fastify';
import { newId, withLogContext } from '../shared/index.js';

/** Fastify options: request ids that are unique across restarts, logged as `requestId`. */
export const requestIdOptions = { genReqId: (): string => newId('req'), logController: new LogController({ requestIdLogLabel: 'requestId' }) };

/**
 * Every request runs inside a log context carrying its id, so each line
 * written on its behalf (down to the QEMU driver, and in the operations it
 * starts) names it; the client gets the id back in `x-request-id`.
 * Must be the first hook registered.
 */
export function installRequestContext(app: FastifyInstance): void {
  app.addHook('onRequest', (req, reply, done) => {
    void reply.header('x-request-id', req.id);
    withLogContext({ requestId: req.id }, done);
  });
}
