import pino from 'pino';
import { currentLogContext, type Logger } from '../shared/index.js';
import { textDestination } from './log-text.js';

export type LogFormat = 'json' | 'text';

/** `auto` means text on a terminal (stdout is a TTY), JSON elsewhere (files, pipes, journald). */
export function resolveLogFormat(setting: LogFormat | 'auto', stdoutIsTTY: boolean): LogFormat {
  return setting === 'auto' ? (stdoutIsTTY ? 'text' : 'json') : setting;
}

export interface LoggerOptions {
  /** `json` (default): one JSON object a line. `text`: short human lines (log-text.ts). */
  format?: LogFormat;
  /** Colour the level in text lines. */
  color?: boolean;
}

/**
 * Logs on stdout with a component on every line; secrets redacted; the
 * request and operation ids in effect (see shared/log-context.ts) on every
 * line written on their behalf. JSON, or human text lines made from the same
 * (already redacted) records.
 */
export function createLogger(level: string, destination?: pino.DestinationStream, o: LoggerOptions = {}): pino.Logger & Logger {
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
      paths: ['token', '*.token', 'req.headers.authorization', 'headers.authorization', 'req.headers.cookie', 'headers.cookie', 'password', '*.password', 'secret', '*.secret'],
      censor: '[redacted]',
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (o.format === 'text') {
    const out = destination ?? { write: (s: string) => process.stdout.write(s) };
    return pino(options, textDestination(out, o.color ? { color: true } : {}));
  }
  return destination ? pino(options, destination) : pino(options);
}
