/** Maps errors to HTTP: catalogue errors keep their status and code; anything else is a 500 INTERNAL. */
import type { FastifyError, FastifyInstance } from 'fastify';
import { PolyvisorError } from '../shared/index.js';

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | PolyvisorError | Error, req, reply) => {
    let e: PolyvisorError;
    if (err instanceof PolyvisorError) e = err;
    else if ('validation' in err && err.validation) e = new PolyvisorError('INVALID_BODY', `invalid request: ${err.message}`);
    else if ('statusCode' in err && typeof err.statusCode === 'number' && err.statusCode < 500) {
      const code = err.statusCode === 404 ? 'ROUTE_NOT_FOUND' : err.statusCode === 413 ? 'BODY_TOO_LARGE' : 'INVALID_BODY';
      e = new PolyvisorError(code, err.message);
    } else {
      req.log.error({ err }, 'internal error');
      e = new PolyvisorError('INTERNAL', 'internal error');
    }
    if (e.status >= 500) req.log.error({ err: e, code: e.code }, 'request failed');
    req.errorCode = e.code;
    void reply.status(e.status === 499 ? 409 : e.status).send(e.toJSON());
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new PolyvisorError('ROUTE_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
    req.errorCode = e.code;
    void reply.status(404).send(e.toJSON());
  });
}
