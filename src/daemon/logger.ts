import pino from 'pino';
import type { Logger } from '../shared/index.js';

/** JSON logs on stdout with a component on every line; secrets redacted. */
export function createLogger(level: string): pino.Logger & Logger {
  return pino({
    level,
    base: { component: 'daemon' },
    redact: {
      paths: ['token', '*.token', 'req.headers.authorization', 'headers.authorization', 'password', '*.password', 'secret', '*.secret'],
      censor: '[redacted]',
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
