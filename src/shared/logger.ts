/** The logging interface every layer takes; the daemon passes a pino child. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

const noop = (): void => undefined;
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};

/** Keys whose values are never written to a log line. */
export const REDACT_KEYS = ['token', 'authorization', 'password', 'secret', 'cookie'] as const;
