/**
 * The browser's REST client: fetch with the user's token, the same routes a
 * script uses (docs/api.md). Errors keep the API's code, message, hint and
 * field details, so forms show exactly what the API said.
 */
import type { ErrorBody } from '../../../src/spec/views.js';

const TOKEN_KEY = 'pvToken';

export class ApiError extends Error {
  constructor(readonly status: number, readonly body: ErrorBody) {
    super(body.message);
  }
  get code(): string {
    return this.body.code;
  }
  /** Field-level problems of a 400 INVALID_BODY, as `field → message`. */
  get fields(): Array<{ field: string; message: string }> {
    const d = this.body.details;
    return Array.isArray(d) ? d.filter((x): x is { field: string; message: string } => typeof x?.field === 'string' && typeof x?.message === 'string') : [];
  }
}

/**
 * The token lives in sessionStorage: gone when the tab closes, never shared
 * with other tabs or kept on disk for the next browser session (audit defect
 * 13). A token an older UI left in localStorage is removed on load.
 */
try {
  localStorage.removeItem(TOKEN_KEY);
} catch {
  /* storage disabled */
}

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (t: string): void => sessionStorage.setItem(TOKEN_KEY, t),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

const listeners = new Set<() => void>();
/** Called when the API says the token is no longer good (401): the app shows the login again. */
export function onUnauthorized(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, { method, headers: headers(body !== undefined), ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  if (res.status === 401) for (const l of listeners) l();
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  const data: unknown = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    const b = (typeof data === 'object' && data !== null ? data : { code: `HTTP_${res.status}`, message: String(data), hint: '' }) as ErrorBody;
    throw new ApiError(res.status, b);
  }
  return data as T;
}

export function headers(json = false): Record<string, string> {
  const t = token.get();
  return { ...(t ? { authorization: `Bearer ${t}` } : {}), ...(json ? { 'content-type': 'application/json' } : {}) };
}

/** A WebSocket to the daemon with the token as the `bearer.TOKEN` subprotocol (browsers cannot set headers on one). */
export function openSocket(path: string): WebSocket {
  const url = new URL(path, location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const t = token.get();
  return new WebSocket(url.toString(), t ? [`bearer.${t}`] : []);
}

export const enc = encodeURIComponent;

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return `${err.body.message}${err.body.hint ? ` — ${err.body.hint}` : ''}`;
  return err instanceof Error ? err.message : String(err);
}
