/** /v1/pools, /v1/pools/:pool/volumes, /v1/images: thin routes over PoolService, ImageLibrary and DiskService. */
import type { FastifyInstance } from 'fastify';
import { fail } from '../../shared/index.js';
import { parseSize } from '../../spec/index.js';
import type { DiskService } from '../../lifecycle/index.js';
import type { ImageLibrary, PoolService, VolumeFormat } from '../../storage/index.js';
import { withProgress } from '../progress-stream.js';
import { bool, body, optString, str } from './body.js';
import { z } from 'zod';
import type { ResponseDoc } from '../auth/principal.js';
import { imageSchema, poolSchema, progressQuery, progressStream, volumeSchema } from '../schemas/index.js';

export interface StorageServices {
  pools: PoolService;
  library: ImageLibrary;
  disks: DiskService;
}

interface PoolParams { pool: string }
interface VolParams { pool: string; volume: string }
const tags = ['storage'];
const read = (summary: string, response: ResponseDoc) => ({ config: { permission: 'storage:read' as const, doc: { summary, tags, response } } });
const write = (summary: string, response: ResponseDoc, otherResponses: ResponseDoc[] = []) => ({
  config: { permission: 'storage:write' as const, doc: { summary, tags, response, otherResponses, ...(otherResponses.includes(progressStream) ? { query: progressQuery } : {}) } },
});
const removed: ResponseDoc = { status: 204, description: 'removed' };

export function sizeOf(v: unknown, what = 'size'): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? parseSize(v) : undefined;
  if (n === undefined || !Number.isSafeInteger(n) || n < 1024 * 1024) fail('INVALID_BODY', `${what} must be at least 1Mi, like "10Gi" or a number of bytes`);
  return n;
}

function volFormat(v: unknown): VolumeFormat | undefined {
  if (v === undefined) return undefined;
  if (v !== 'qcow2' && v !== 'raw') fail('FORMAT_UNSUPPORTED', `a volume is qcow2 or raw, not ${JSON.stringify(v)}`);
  return v;
}

export function storageRoutes(app: FastifyInstance, s: StorageServices): void {
  app.get('/v1/pools', read('List storage pools with their space', { status: 200, description: 'the pools', schema: z.array(poolSchema) }), async () => s.pools.listPools());
  app.post('/v1/pools', write('Add a directory pool {name, path}', { status: 201, description: 'the pool', schema: poolSchema }), async (req, reply) => {
    const b = body(req.body);
    return reply.status(201).send(await s.pools.addPool({ name: str(b, 'name'), path: str(b, 'path') }));
  });
  app.get<{ Params: PoolParams }>('/v1/pools/:pool', read('One pool', { status: 200, description: 'the pool', schema: poolSchema }), async (req) => s.pools.getPool(req.params.pool));
  app.delete<{ Params: PoolParams }>('/v1/pools/:pool', write('Remove an empty pool (its directory stays)', removed), async (req, reply) => {
    await s.pools.removePool(req.params.pool);
    return reply.status(204).send();
  });

  app.get<{ Params: PoolParams }>('/v1/pools/:pool/volumes', read('List the volumes of a pool', { status: 200, description: 'the volumes', schema: z.array(volumeSchema) }), async (req) => s.pools.listVolumes(req.params.pool));
  /** {name, size, format?} | {name, cloneFrom, linked?, format?} | {name, fromImage, linked?} | {name, importPath, format?} */
  app.post<{ Params: PoolParams }>('/v1/pools/:pool/volumes', write('Create a volume: blank {name, size}, a clone {cloneFrom, linked?}, from an image {fromImage, linked?} or an import {importPath}', { status: 201, description: 'the volume', schema: volumeSchema }, [progressStream]), async (req, reply) => {
    const b = body(req.body);
    const pool = req.params.pool;
    const name = str(b, 'name');
    const format = volFormat(b['format']);
    const f = format ? { format } : {};
    const linked = bool(b, 'linked') ?? false;
    const cloneFrom = optString(b, 'cloneFrom');
    const fromImage = optString(b, 'fromImage');
    const importPath = optString(b, 'importPath');
    return withProgress(req, reply, 201, (report) => {
      const onProgress = (fraction: number) => report({ fraction });
      if (cloneFrom !== undefined) return s.pools.cloneVolume(pool, cloneFrom, { name, linked, ...f }, { onProgress });
      if (fromImage !== undefined) return s.disks.volumeFromImage(pool, fromImage, { name, linked, ...f }, onProgress);
      if (importPath !== undefined) return s.disks.importVolume(pool, { name, file: importPath, ...f }, onProgress);
      return s.pools.createVolume(pool, { name, sizeBytes: sizeOf(b['size']), ...f });
    });
  });
  app.get<{ Params: VolParams }>('/v1/pools/:pool/volumes/:volume', read('One volume', { status: 200, description: 'the volume', schema: volumeSchema }), async (req) => s.pools.getVolume(req.params.pool, req.params.volume));
  app.post<{ Params: VolParams }>('/v1/pools/:pool/volumes/:volume/resize', write('Grow a volume {size}', { status: 200, description: 'the volume', schema: volumeSchema }), async (req) =>
    s.pools.resizeVolume(req.params.pool, req.params.volume, sizeOf(body(req.body)['size'])));
  app.delete<{ Params: VolParams }>('/v1/pools/:pool/volumes/:volume', write('Delete a volume no VM uses', removed), async (req, reply) => {
    await s.disks.deleteVolume(req.params.pool, req.params.volume);
    return reply.status(204).send();
  });

  app.get('/v1/images', read('List the image library', { status: 200, description: 'the images', schema: z.array(imageSchema) }), async () => s.library.list());
  app.get<{ Params: { image: string } }>('/v1/images/:image', read('One library image', { status: 200, description: 'the image', schema: imageSchema }), async (req) => s.library.get(req.params.image));
  /** {name, url|path, checksum?|checksumUrl?, insecureNoChecksum?, kind?} */
  app.post('/v1/images', write('Import an image from a URL or a path, verified against its checksum', { status: 201, description: 'the image', schema: imageSchema }, [progressStream]), async (req, reply) => {
    const b = body(req.body);
    const k = b['kind'];
    if (k !== undefined && k !== 'iso' && k !== 'disk') fail('INVALID_BODY', 'kind must be "iso" or "disk"');
    const kind = k as 'iso' | 'disk' | undefined;
    const importReq = {
      name: str(b, 'name'),
      ...opt('url', optString(b, 'url')), ...opt('path', optString(b, 'path')),
      ...opt('checksum', optString(b, 'checksum')), ...opt('checksumUrl', optString(b, 'checksumUrl')),
      insecureNoChecksum: bool(b, 'insecureNoChecksum') ?? false, ...opt('kind', kind),
    };
    return withProgress(req, reply, 201, (report) => s.library.import(importReq, {
      onProgress: (p) => report({ ...p, ...(p.totalBytes ? { fraction: p.doneBytes / p.totalBytes } : {}) }),
    }));
  });
  app.delete<{ Params: { image: string } }>('/v1/images/:image', write('Remove an image no VM uses', removed), async (req, reply) => {
    await s.disks.removeImage(req.params.image);
    return reply.status(204).send();
  });
}

function opt<K extends string, V>(k: K, v: V | undefined): Partial<Record<K, V>> {
  return v === undefined ? {} : ({ [k]: v } as Record<K, V>);
}
