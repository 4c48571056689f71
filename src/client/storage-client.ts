/**
 * Typed client of the storage routes: pools, volumes, the image library,
 * VM disks and exports. Long calls take `onProgress` and then ask the daemon
 * for an NDJSON progress stream (`?progress=ndjson`).
 */
import http from 'node:http';
import { PolyvisorError, isErrorCode } from '../shared/index.js';
import { decode, request, requestTarget, type Endpoint } from './transport.js';

export interface StorageClientOptions {
  endpoint: Endpoint;
  token?: string;
  timeoutMs?: number;
}

export type Progress = { fraction?: number; phase?: string; step?: string; doneBytes?: number; totalBytes?: number };
type Json = Record<string, unknown>;
const enc = encodeURIComponent;

export class StorageClient {
  constructor(private readonly o: StorageClientOptions) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const opts = { ...(this.o.token ? { token: this.o.token } : {}), timeoutMs: this.o.timeoutMs ?? 6 * 3600_000 };
    return decode<T>(await request(this.o.endpoint, method, path, body, opts));
  }

  /** POSTs and, with onProgress, reads the NDJSON stream to its result line. */
  private post<T>(path: string, body: unknown, onProgress?: (p: Progress) => void): Promise<T> {
    return onProgress ? streamPost<T>(this.o, path, body, onProgress) : this.call<T>('POST', path, body);
  }

  listPools(): Promise<Json[]> { return this.call('GET', '/v1/pools'); }
  getPool(pool: string): Promise<Json> { return this.call('GET', `/v1/pools/${enc(pool)}`); }
  addPool(name: string, path: string): Promise<Json> { return this.call('POST', '/v1/pools', { name, path }); }
  removePool(pool: string): Promise<void> { return this.call('DELETE', `/v1/pools/${enc(pool)}`); }

  listVolumes(pool: string): Promise<Json[]> { return this.call('GET', `/v1/pools/${enc(pool)}/volumes`); }
  getVolume(pool: string, name: string): Promise<Json> { return this.call('GET', `/v1/pools/${enc(pool)}/volumes/${enc(name)}`); }
  /** body: {name, size, format?} | {name, cloneFrom, linked?} | {name, fromImage, linked?} | {name, importPath} */
  createVolume(pool: string, body: Json, onProgress?: (p: Progress) => void): Promise<Json> {
    return this.post(`/v1/pools/${enc(pool)}/volumes`, body, onProgress);
  }
  resizeVolume(pool: string, name: string, size: string | number): Promise<Json> {
    return this.call('POST', `/v1/pools/${enc(pool)}/volumes/${enc(name)}/resize`, { size });
  }
  deleteVolume(pool: string, name: string): Promise<void> { return this.call('DELETE', `/v1/pools/${enc(pool)}/volumes/${enc(name)}`); }

  listImages(): Promise<Json[]> { return this.call('GET', '/v1/images'); }
  getImage(name: string): Promise<Json> { return this.call('GET', `/v1/images/${enc(name)}`); }
  /** body: {name, url|path, checksum?|checksumUrl?, insecureNoChecksum?, kind?} */
  importImage(body: Json, onProgress?: (p: Progress) => void): Promise<Json> { return this.post('/v1/images', body, onProgress); }
  removeImage(name: string): Promise<void> { return this.call('DELETE', `/v1/images/${enc(name)}`); }

  /** body: {pool, volume, name?, bus?, readOnly?} | {image, name?, bus?} */
  attachDisk(vm: string, body: Json): Promise<Json> { return this.call('POST', `/v1/vms/${enc(vm)}/disks`, body); }
  detachDisk(vm: string, disk: string): Promise<void> { return this.call('DELETE', `/v1/vms/${enc(vm)}/disks/${enc(disk)}`); }
  exportVm(vm: string, body: { formats: string | string[]; outDir: string; disks?: string[]; decrypt?: boolean }, onProgress?: (p: Progress) => void): Promise<Json> {
    return this.post(`/v1/vms/${enc(vm)}/export`, body, onProgress);
  }
}

function streamPost<T>(o: StorageClientOptions, path: string, body: unknown, onProgress: (p: Progress) => void): Promise<T> {
  const full = `${path}?progress=ndjson`;
  const payload = JSON.stringify(body);
  const headers: Record<string, string> = { accept: 'application/x-ndjson', 'content-type': 'application/json' };
  if (o.token) headers['authorization'] = `Bearer ${o.token}`;
  const ep = o.endpoint;
  const target = requestTarget(ep, full);
  return new Promise<T>((resolve, reject) => {
    const req = http.request({ ...target, method: 'POST', headers }, (res) => {
      if ((res.statusCode ?? 0) >= 400 || !String(res.headers['content-type']).includes('ndjson')) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(decode<T>({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }));
          } catch (err) {
            reject(err as Error);
          }
        });
        return;
      }
      let buf = '';
      let settled = false;
      res.setEncoding('utf8').on('data', (c: string) => {
        buf += c;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (!line.trim()) continue;
          const msg = JSON.parse(line) as { progress?: Progress; result?: T; error?: { code: string; message: string; hint?: string; details?: unknown } };
          if (msg.progress) onProgress(msg.progress);
          else if (msg.error) {
            settled = true;
            const code = isErrorCode(msg.error.code) ? msg.error.code : 'INTERNAL';
            reject(new PolyvisorError(code, msg.error.message, { ...(msg.error.hint ? { hint: msg.error.hint } : {}), ...(msg.error.details !== undefined ? { details: msg.error.details } : {}) }));
          } else if ('result' in msg) {
            settled = true;
            resolve(msg.result as T);
          }
        }
      });
      res.on('end', () => settled || reject(new PolyvisorError('DAEMON_UNREACHABLE', `the daemon closed ${path} before it finished`)));
    });
    req.on('error', (err: NodeJS.ErrnoException) => reject(err instanceof PolyvisorError ? err : new PolyvisorError('DAEMON_UNREACHABLE', `cannot reach polyvisord (${err.code ?? err.message})`, { cause: err })));
    req.end(payload);
  });
}
