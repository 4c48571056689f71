/**
 * The import page's upload with progress and cancel. No browser runs in the
 * unit project, so a scripted XMLHttpRequest stands in for the browser's
 * (it records what is sent and plays progress events and the daemon's
 * answer); test/web-interchange.test.ts uploads through a real Chromium and
 * daemon. The progress line is rendered with React's server renderer.
 */
import { renderToStaticMarkup } from 'react-dom/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../api/client.js';
import { progressText, uploadFile, UploadStopped, type XhrLike } from './upload.js';
import { UploadProgress } from './UploadProgress.js';

beforeAll(() => {
  const store = new Map<string, string>([['pvToken', 'tok']]);
  (globalThis as { sessionStorage?: unknown }).sessionStorage = { getItem: (k: string) => store.get(k) ?? null, setItem: () => undefined, removeItem: () => undefined };
});

class FakeXhr implements XhrLike {
  opened: [string, string] | undefined;
  headers: Record<string, string> = {};
  sent: Blob | undefined;
  aborted = false;
  status = 0;
  responseText = '';
  upload: XhrLike['upload'] = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  open(method: string, url: string): void { this.opened = [method, url]; }
  setRequestHeader(k: string, v: string): void { this.headers[k] = v; }
  send(body: Blob): void { this.sent = body; }
  abort(): void { this.aborted = true; this.onabort?.(); }
  progress(loaded: number, total: number): void { this.upload.onprogress?.({ loaded, total, lengthComputable: true }); }
  answer(status: number, body: unknown): void { this.status = status; this.responseText = JSON.stringify(body); this.onload?.(); }
}

const file = (size: number, name = 'web app.ova'): Blob & { name: string } => Object.assign(new Blob([new Uint8Array(size)]), { name });

describe('upload for import', () => {
  it('streams the file as the body, reports bytes sent of the total, and answers the daemon\'s path', async () => {
    const x = new FakeXhr();
    const seen: Array<[number, number]> = [];
    const f = file(3 * 1024 * 1024);
    const p = uploadFile(f, { xhr: () => x, onProgress: (s, t) => seen.push([s, t]) });
    expect(x.opened).toEqual(['POST', '/v1/import/upload?filename=web%20app.ova']);
    expect(x.headers).toEqual({ authorization: 'Bearer tok', 'content-type': 'application/octet-stream' });
    expect(x.sent).toBe(f);
    x.progress(1024 * 1024, f.size);
    x.progress(2 * 1024 * 1024, f.size);
    x.answer(201, { id: 'u1', file: 'web app.ova', path: '/state/uploads/u1/web app.ova', bytes: f.size, sha256: 'ab' });
    await expect(p).resolves.toMatchObject({ path: '/state/uploads/u1/web app.ova', bytes: f.size });
    expect(seen).toEqual([[1024 * 1024, f.size], [2 * 1024 * 1024, f.size], [f.size, f.size]]);
  });

  it('a refusal keeps the API\'s code; Cancel aborts the request; a lost connection says so', async () => {
    const x = new FakeXhr();
    const refused = uploadFile(file(10, 'x.exe'), { xhr: () => x });
    x.answer(400, { code: 'INVALID_ARGUMENT', message: 'x.exe is not a format Polyvisor imports', hint: '' });
    const err = await refused.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('INVALID_ARGUMENT');

    const y = new FakeXhr();
    const stop = new AbortController();
    const cancelled = uploadFile(file(10), { xhr: () => y, signal: stop.signal });
    y.progress(5, 10);
    stop.abort();
    expect(y.aborted).toBe(true);
    await expect(cancelled).rejects.toSatisfy((e) => e instanceof UploadStopped && e.cancelled);

    const z = new FakeXhr();
    const lost = uploadFile(file(10), { xhr: () => z });
    z.onerror?.();
    await expect(lost).rejects.toSatisfy((e) => e instanceof UploadStopped && !e.cancelled && /connection/.test(e.message));
  });

  it('shows a progress bar with the bytes sent of the total and a Cancel button', () => {
    expect(progressText(5 * 1024 * 1024, 20 * 1024 * 1024)).toBe('5.0 MiB of 20.0 MiB (25%)');
    expect(progressText(3 * 1024 ** 3, 4 * 1024 ** 3)).toBe('3.00 GiB of 4.00 GiB (75%)');
    expect(progressText(0, 0)).toBe('0 KiB of 0 KiB (0%)');
    const html = renderToStaticMarkup(<UploadProgress name="big.ova" sent={5 * 1024 * 1024} total={20 * 1024 * 1024} onCancel={() => undefined} />);
    expect(html).toContain(`<progress max="${20 * 1024 * 1024}" value="${5 * 1024 * 1024}" aria-label="upload of big.ova">`);
    expect(html).toContain('Uploading big.ova: 5.0 MiB of 20.0 MiB (25%)');
    expect(html).toMatch(/<button type="button">Cancel upload<\/button>/);
  });
});
