/**
 * Resumable download into a partial file. An interruption keeps the bytes
 * received; the next attempt (automatic retry, or a later import of the same
 * URL) asks for the rest with `Range` (+ `If-Range` on the validator the
 * first answer carried), appends on 206, and starts over on 200.
 */
import { createWriteStream } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import type http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { PolyvisorError, fail, sleep, type Logger, silentLogger } from '../../shared/index.js';
import { httpGet, networkError } from './http-get.js';

export interface DownloadOptions {
  signal?: AbortSignal;
  idleTimeoutMs?: number;
  /** Automatic resumes after an interruption within this call (default 3). */
  retries?: number;
  onProgress?: (doneBytes: number, totalBytes: number | undefined) => void;
  logger?: Logger;
}

interface PartialState {
  url: string;
  validator?: string;
  total?: number;
}

export interface DownloadResult {
  bytes: number;
  /** Bytes that were already there from an earlier, interrupted attempt. */
  resumedFrom: number;
}

const sidecar = (partial: string) => `${partial}.json`;

export async function downloadResumable(url: URL, partial: string, o: DownloadOptions = {}): Promise<DownloadResult> {
  const log = o.logger ?? silentLogger;
  let state = await readState(partial, url.href);
  const resumedFrom = state ? await sizeOf(partial) : 0;
  if (!state) {
    await rm(partial, { force: true });
    state = { url: url.href };
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const bytes = await attemptOnce(url, partial, state, o);
      await rm(sidecar(partial), { force: true });
      return { bytes, resumedFrom };
    } catch (err) {
      const interrupted = err instanceof PolyvisorError && err.code === 'DOWNLOAD_FAILED' && (err.details as { interrupted?: boolean } | undefined)?.interrupted;
      if (!interrupted || attempt >= (o.retries ?? 3) || o.signal?.aborted) throw err;
      log.warn({ url: url.href, attempt: attempt + 1, have: await sizeOf(partial) }, 'download interrupted; resuming');
      await sleep(250 * (attempt + 1), o.signal);
    }
  }
}

async function attemptOnce(url: URL, partial: string, state: PartialState, o: DownloadOptions): Promise<number> {
  const have = await sizeOf(partial);
  const headers: Record<string, string> = {};
  if (have > 0) {
    headers['range'] = `bytes=${have}-`;
    if (state.validator) headers['if-range'] = state.validator;
  }
  const res = await httpGet(url, { headers, ...(o.signal ? { signal: o.signal } : {}), ...(o.idleTimeoutMs ? { idleTimeoutMs: o.idleTimeoutMs } : {}) });
  const status = res.statusCode ?? 0;
  if (status === 416 && have > 0 && state.total === have) {
    res.resume();
    return have; // the earlier attempt had everything
  }
  if (status !== 200 && status !== 206) {
    res.resume();
    fail('DOWNLOAD_FAILED', `${url.href} answered HTTP ${status}${status === 404 ? ' (not found)' : ''}`);
  }
  const append = status === 206 && have > 0 && rangeStart(res) === have;
  const start = append ? have : 0;
  const length = Number(res.headers['content-length'] ?? NaN);
  const total = Number.isFinite(length) ? start + length : undefined;
  const validator = String(res.headers['etag'] ?? res.headers['last-modified'] ?? '') || undefined;
  Object.assign(state, { total, validator });
  await writeFile(sidecar(partial), JSON.stringify(state));
  let done = start;
  o.onProgress?.(done, total);
  res.on('data', (c: Buffer) => {
    done += c.length;
    o.onProgress?.(done, total);
  });
  try {
    await pipeline(res, createWriteStream(partial, { flags: append ? 'a' : 'w' }));
  } catch (err) {
    if (o.signal?.aborted) throw networkError(url, url.host, err as NodeJS.ErrnoException, o.signal);
    if (total === undefined) throw interrupted(url, await sizeOf(partial), undefined);
  }
  const got = await sizeOf(partial);
  if (total !== undefined && got < total) throw interrupted(url, got, total);
  return got;
}

function interrupted(url: URL, got: number, total: number | undefined): PolyvisorError {
  return new PolyvisorError('DOWNLOAD_FAILED', `download of ${url.href} was interrupted after ${got}${total === undefined ? '' : ` of ${total}`} bytes`, {
    details: { interrupted: true, have: got, total },
    hint: 'The bytes received are kept; run the same import again to resume.',
  });
}

function rangeStart(res: http.IncomingMessage): number | undefined {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
  return m ? Number(m[1]) : undefined;
}

async function readState(partial: string, url: string): Promise<PartialState | undefined> {
  try {
    const s = JSON.parse(await readFile(sidecar(partial), 'utf8')) as PartialState;
    return s.url === url ? s : undefined;
  } catch {
    return undefined;
  }
}

async function sizeOf(file: string): Promise<number> {
  return (await stat(file).catch(() => undefined))?.size ?? 0;
}

/** Removes a partial download and its state. */
export async function discardPartial(partial: string): Promise<void> {
  await rm(partial, { force: true });
  await rm(sidecar(partial), { force: true });
}
