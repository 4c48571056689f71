/**
 * The import page's upload: the picked file streamed as the body of
 * `POST /v1/import/upload` with XMLHttpRequest, because fetch reports no
 * upload progress. Progress is bytes sent of the file's size; an abort
 * (the page's Cancel) stops the request, and the daemon removes what it
 * received when the connection drops (docs/interchange.md "Uploads").
 */
import { ApiError, enc, headers } from '../../api/client.js';
import type { ErrorBody } from '../../api/types.js';

/** What the daemon answers for an upload. */
export interface UploadedFile { id: string; file: string; path: string; bytes: number; sha256: string }

/** The part of XMLHttpRequest the upload uses (a test gives its own). */
export interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: Blob): void;
  abort(): void;
  readonly status: number;
  readonly responseText: string;
  readonly upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}

export interface UploadOptions {
  /** Bytes sent so far and the total (the file's size). */
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
  /** Makes the request (default: a browser XMLHttpRequest). */
  xhr?: () => XhrLike;
}

/** A refusal of the upload that is not the daemon's (the connection failed, or the user cancelled). */
export class UploadStopped extends Error {
  constructor(readonly cancelled: boolean) {
    super(cancelled ? 'the upload was cancelled; the daemon removes what it received' : 'the upload failed: the connection to the daemon was lost');
  }
}

export function uploadFile(f: Blob & { name: string }, o: UploadOptions = {}): Promise<UploadedFile> {
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return reject(new UploadStopped(true));
    const x = o.xhr?.() ?? (new XMLHttpRequest() as unknown as XhrLike);
    x.open('POST', `/v1/import/upload?filename=${enc(f.name)}`);
    for (const [k, v] of Object.entries({ ...headers(), 'content-type': 'application/octet-stream' })) x.setRequestHeader(k, v);
    x.upload.onprogress = (e) => o.onProgress?.(e.loaded, e.lengthComputable ? e.total : f.size);
    const onAbort = (): void => x.abort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (): void => o.signal?.removeEventListener('abort', onAbort);
    x.onload = () => {
      settle();
      let data: UploadedFile & ErrorBody;
      try {
        data = JSON.parse(x.responseText) as UploadedFile & ErrorBody;
      } catch {
        return reject(new Error(`the daemon answered ${x.status} without a JSON body`));
      }
      if (x.status < 200 || x.status >= 300) return reject(new ApiError(x.status, data));
      o.onProgress?.(f.size, f.size);
      resolve(data);
    };
    x.onerror = () => { settle(); reject(new UploadStopped(false)); };
    x.onabort = () => { settle(); reject(new UploadStopped(true)); };
    x.send(f);
  });
}

/** "12.5 MiB of 40.0 MiB (31%)" for the progress line. */
export function progressText(sent: number, total: number): string {
  const mib = (n: number): string => (n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(2)} GiB` : n >= 1024 ** 2 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${Math.round(n / 1024)} KiB`);
  const pct = total > 0 ? Math.floor((100 * Math.min(sent, total)) / total) : 0;
  return `${mib(sent)} of ${mib(total)} (${pct}%)`;
}
