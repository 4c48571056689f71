/**
 * One HTTP(S) GET with redirects, a connect/idle timeout and an AbortSignal;
 * network failures become DOWNLOAD_FAILED naming the host and the reason.
 */
import http from 'node:http';
import https from 'node:https';
import { PolyvisorError, fail } from '../../shared/index.js';

export interface GetOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** No bytes (or no connection) for this long aborts the request (default 30 s). */
  idleTimeoutMs?: number;
  maxRedirects?: number;
}

/** Checks a URL we are about to fetch: http(s) only, no credentials in it. */
export function parseDownloadUrl(text: string): URL {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    fail('INVALID_ARGUMENT', `${JSON.stringify(text)} is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') fail('INVALID_ARGUMENT', `only http:// and https:// URLs can be imported, not ${u.protocol}`);
  if (u.username || u.password) fail('INVALID_ARGUMENT', 'put no credentials in the URL');
  return u;
}

/** Resolves with the response once headers arrived (status < 300 after redirects); the caller consumes the body. */
export async function httpGet(url: URL, o: GetOptions = {}): Promise<http.IncomingMessage> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const res = await once(current, o);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      if (hop >= (o.maxRedirects ?? 5)) fail('DOWNLOAD_FAILED', `${url.href}: too many redirects`);
      current = parseDownloadUrl(new URL(res.headers.location, current).href);
      continue;
    }
    return res;
  }
}

function once(url: URL, o: GetOptions): Promise<http.IncomingMessage> {
  const mod = url.protocol === 'https:' ? https : http;
  const where = `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
  return new Promise((resolve, reject) => {
    const req = mod.get(url, { headers: { 'user-agent': 'polyvisor', ...o.headers }, ...(o.signal ? { signal: o.signal } : {}) }, (res) => {
      res.setTimeout(o.idleTimeoutMs ?? 30_000, () => res.destroy(Object.assign(new Error('stalled'), { code: 'ETIMEDOUT' })));
      resolve(res);
    });
    req.setTimeout(o.idleTimeoutMs ?? 30_000, () => req.destroy(Object.assign(new Error('no answer in time'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => reject(networkError(url, where, err, o.signal)));
  });
}

export function networkError(url: URL, where: string, err: NodeJS.ErrnoException, signal?: AbortSignal): PolyvisorError {
  if (err instanceof PolyvisorError) return err;
  if (signal?.aborted || err.name === 'AbortError') return new PolyvisorError('ABORTED', `download of ${url.href} was cancelled`, { cause: err });
  const why = err.code === 'ECONNREFUSED' ? 'connection refused: nothing listens there'
    : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' ? 'host name not found'
    : err.code === 'ETIMEDOUT' ? 'the host did not answer in time'
    : err.code ?? err.message;
  return new PolyvisorError('DOWNLOAD_FAILED', `cannot fetch ${url.href} from ${where}: ${why}`, { cause: err });
}

/** GETs a small text document (a checksum file), at most `maxBytes`. */
export async function fetchText(url: URL, o: GetOptions & { maxBytes?: number } = {}): Promise<string> {
  const res = await httpGet(url, o);
  if ((res.statusCode ?? 0) !== 200) {
    res.resume();
    fail('DOWNLOAD_FAILED', `${url.href} answered HTTP ${res.statusCode}`);
  }
  const max = o.maxBytes ?? 1024 * 1024;
  let text = '';
  for await (const c of res) {
    text += (c as Buffer).toString('utf8');
    if (text.length > max) {
      res.destroy();
      fail('DOWNLOAD_FAILED', `${url.href} is larger than ${max} bytes; is it really a checksum file?`);
    }
  }
  return text;
}
