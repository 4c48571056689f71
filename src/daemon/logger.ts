import pino from 'pino';
import { currentLogContext, type Logger } from '../shared/index.js';

/**
 * JSON logs on stdout with a component on every line; secrets redacted; the
 * request and operation ids in effect (see shared/log-context.ts) on every
 * line written on their behalf.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): pino.Logger & Logger {
  const options: pino.LoggerOptions = {
    // fastify's request logger already binds requestId: do not write it twice.
    mixin: (_obj, _level, self) => {
      const ctx = currentLogContext();
      if (ctx.requestId === undefined || !('requestId' in self.bindings())) return { ...ctx };
      const { requestId: _bound, ...rest } = ctx;
      return rest;
    },
    level,
    base: { component: 'daemon' },
    redact: {
      paths: ['token', '*.token', 'req.headers.authorization', 'headers.authorization', 'password', '*.password', 'secret', '*.secret'],
      censor: '[redacted]',
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
