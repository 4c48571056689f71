/** Maps errors to HTTP: catalogue errors keep their status and code; anything else is a 500 INTERNAL. */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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
  // A refusal no handler wrote a body for (a plain GET on a WebSocket-only route answers an empty 404 from
  // @fastify/websocket) still gets the catalogue's shape.
  app.addHook('onSend', async (req, reply, payload) => {
    if (reply.statusCode < 400 || (payload !== '' && payload !== undefined && payload !== null)) return payload;
    const ws = req.routeOptions.url !== undefined && reply.statusCode === 404 && req.headers.upgrade === undefined;
    const e = new PolyvisorError(reply.statusCode === 404 ? 'ROUTE_NOT_FOUND' : 'INVALID_ARGUMENT', ws ? `${req.method} ${req.url.split('?')[0]} is a WebSocket: connect with an Upgrade: websocket request` : `request refused (${reply.statusCode})`);
    req.errorCode ??= e.code;
    void reply.header('content-type', 'application/json; charset=utf-8');
    return JSON.stringify(e.toJSON());
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new PolyvisorError('ROUTE_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
    req.errorCode = e.code;
    void reply.status(404).send(e.toJSON());
  });
}

/**
 * fastify's own refusals before any route runs (a URL that is not valid
 * percent-encoding, a path parameter past maxParamLength): the catalogue's
 * shape like every other 4xx, not fastify's.
 */
export function frameworkError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const e = err.code === 'FST_ERR_MAX_PARAM_LENGTH'
    ? new PolyvisorError('INVALID_ARGUMENT', 'a path parameter is too long (at most 200 characters)')
    : new PolyvisorError('INVALID_ARGUMENT', err.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid (bad percent-encoding)' : `invalid request: ${err.message}`);
  req.errorCode = e.code;
  void reply.status(e.status).send(e.toJSON());
}
