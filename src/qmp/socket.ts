/** Connecting to a unix socket with a timeout and an AbortSignal. */
import net from 'node:net';
import { abortError, PolyvisorError, timeoutSignal, type ErrorCode } from '../shared/index.js';

export function connectUnix(
  socketPath: string,
  opts: { signal?: AbortSignal; timeoutMs: number; what: string; failCode: ErrorCode },
): Promise<net.Socket> {
  const signal = timeoutSignal(opts.timeoutMs, opts.signal);
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal, `connecting to ${opts.what}`));
    const sock = net.createConnection({ path: socketPath });
    const onAbort = (): void => {
      sock.destroy();
      reject(abortError(signal, `connecting to ${opts.what}`));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      sock.removeAllListeners('error');
      resolve(sock);
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      signal.removeEventListener('abort', onAbort);
      sock.destroy();
      reject(new PolyvisorError(opts.failCode, `cannot connect to ${opts.what} at ${socketPath} (${err.code ?? err.message})`, { cause: err }));
    });
  });
}
