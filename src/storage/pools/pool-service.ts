/**
 * Pools and their volumes: names validated, paths kept inside their pool,
 * sizes checked against free space, bases of linked clones protected. Knows
 * nothing of VMs: lifecycle/disk-service.ts refuses deleting attached volumes.
 */
import { fail, silentLogger, validateName, type Logger } from '../../shared/index.js';
import { KeyedMutex } from '../mutex.js';
import { DirPool } from './dir-pool.js';
import { DEFAULT_POOL, PoolCatalogue } from './pool-catalogue.js';
import { VOLUME_FORMATS, type PoolBackend, type PoolConfig, type PoolKind, type PoolView, type VolumeFormat, type VolumeOpOptions, type VolumeRef, type VolumeView } from './types.js';

export interface PoolServiceOptions {
  stateDir: string;
  logger?: Logger;
  /** Backend for a pool config (tests and future LVM/ZFS kinds). */
  backendFor?: (c: PoolConfig) => PoolBackend;
}

export interface CloneRequest {
  name: string;
  linked: boolean;
  format?: VolumeFormat;
}

export class PoolService {
  private readonly catalogue: PoolCatalogue;
  private readonly lock = new KeyedMutex();
  private readonly log: Logger;
  private readonly backendFor: (c: PoolConfig) => PoolBackend;

  constructor(o: PoolServiceOptions) {
    this.catalogue = PoolCatalogue.in(o.stateDir);
    this.log = (o.logger ?? silentLogger).child({ component: 'pools' });
    this.backendFor = o.backendFor ?? ((c) => new DirPool(c));
  }

  /** Creates the default pool's directory (daemon startup). */
  async init(): Promise<void> {
    for (const c of await this.catalogue.list()) await this.backendFor(c).init().catch((err: unknown) => this.log.warn({ pool: c.name, err }, 'pool directory unavailable'));
  }

  async listPools(): Promise<PoolView[]> {
    return Promise.all((await this.catalogue.list()).map((c) => this.view(this.backendFor(c))));
  }

  async getPool(name: string): Promise<PoolView> {
    return this.view(await this.backend(name));
  }

  async addPool(p: { name: string; kind?: PoolKind; path: string }): Promise<PoolView> {
    return this.lock.run('catalogue', async () => {
      const c = await this.catalogue.add({ name: p.name, kind: p.kind ?? 'dir', path: p.path });
      const b = this.backendFor(c);
      try {
        await b.init();
      } catch (err) {
        await this.catalogue.remove(c.name);
        fail('INVALID_PATH', `cannot create pool directory ${c.path}`, { cause: err });
      }
      this.log.info({ pool: c.name, path: c.path }, 'pool added');
      return this.view(b);
    });
  }

  /** Forgets an empty pool (its directory stays); never the default pool. */
  async removePool(name: string): Promise<void> {
    return this.lock.run('catalogue', async () => {
      const b = await this.backend(name);
      if (name === DEFAULT_POOL) fail('POOL_IN_USE', 'the default pool cannot be removed');
      const vols = await b.list().catch(() => []);
      if (vols.length > 0) fail('POOL_IN_USE', `pool ${name} still holds ${vols.length} volume(s): ${vols.map((v) => v.name).join(', ')}`);
      await this.catalogue.remove(name);
      this.log.info({ pool: name }, 'pool removed');
    });
  }

  async listVolumes(pool: string): Promise<VolumeView[]> {
    const b = await this.backend(pool);
    return Promise.all((await b.list()).map((r) => b.info(r)));
  }

  async getVolume(pool: string, name: string): Promise<VolumeView> {
    const b = await this.backend(pool);
    return b.info(await this.mustFind(b, name));
  }

  /** The volume whose path is `file`, in any pool. */
  async volumeAt(file: string): Promise<VolumeRef | undefined> {
    for (const c of await this.catalogue.list()) {
      const hit = (await this.backendFor(c).list().catch(() => [])).find((v) => v.path === file);
      if (hit) return hit;
    }
    return undefined;
  }

  /** Volumes (in any pool) whose backing file is `file`: linked clones of it. */
  async dependentsOf(file: string): Promise<VolumeView[]> {
    const out: VolumeView[] = [];
    for (const c of await this.catalogue.list()) {
      const b = this.backendFor(c);
      for (const r of await b.list().catch(() => [])) {
        if (r.format !== 'qcow2') continue;
        const v = await b.info(r).catch(() => undefined);
        if (v?.backingFile === file) out.push(v);
      }
    }
    return out;
  }

  async createVolume(pool: string, req: { name: string; format?: VolumeFormat; sizeBytes: number }, opts: VolumeOpOptions = {}): Promise<VolumeView> {
    const format = req.format ?? 'qcow2';
    if (!VOLUME_FORMATS.includes(format)) fail('FORMAT_UNSUPPORTED', `a volume is qcow2 or raw, not ${JSON.stringify(format)}`);
    return this.withNewName(pool, req.name, async (b) => {
      await this.needSpace(b, req.sizeBytes, `a ${req.sizeBytes}-byte volume`);
      const ref = await b.create(req.name, format, req.sizeBytes, opts);
      this.log.info({ pool, volume: req.name, format, size: req.sizeBytes }, 'volume created');
      return b.info(ref);
    });
  }

  async resizeVolume(pool: string, name: string, sizeBytes: number, opts: VolumeOpOptions = {}): Promise<VolumeView> {
    return this.lock.run(`${pool}/${name}`, async () => {
      const b = await this.backend(pool);
      const cur = await b.info(await this.mustFind(b, name));
      if (sizeBytes < cur.virtualSize) fail('INVALID_ARGUMENT', `volume ${pool}/${name} is ${cur.virtualSize} bytes; shrinking to ${sizeBytes} would destroy data`);
      await this.needSpace(b, sizeBytes - cur.virtualSize, `growing ${name} by ${sizeBytes - cur.virtualSize} bytes`);
      await b.resize(cur, sizeBytes, opts);
      this.log.info({ pool, volume: name, size: sizeBytes }, 'volume resized');
      return b.info(cur);
    });
  }

  /** Full or linked clone of `pool/src` as `dstPool/req.name` (linked clones stay in the same pool). */
  async cloneVolume(pool: string, src: string, req: CloneRequest & { pool?: string }, opts: VolumeOpOptions = {}): Promise<VolumeView> {
    const from = await this.backend(pool);
    const srcView = await from.info(await this.mustFind(from, src));
    return this.cloneFrom(srcView, req.pool ?? pool, req, opts);
  }

  /** Clone of any image file (a library image) into a pool. */
  async cloneFrom(src: { path: string; format: string; virtualSize: number; actualSize: number | null; pool?: string; name?: string }, pool: string, req: CloneRequest, opts: VolumeOpOptions = {}): Promise<VolumeView> {
    return this.withNewName(pool, req.name, async (b) => {
      if (!req.linked) await this.needSpace(b, src.actualSize ?? src.virtualSize, `a full copy of ${src.name ?? src.path}`);
      const ref = req.linked
        ? await b.clone(asRef(src), req.name, { ...opts, linked: true })
        : await b.importFile(src.path, src.format, req.name, req.format ?? (src.format === 'raw' ? 'raw' : 'qcow2'), opts);
      this.log.info({ pool, volume: req.name, from: src.path, linked: req.linked }, 'volume cloned');
      return b.info(ref);
    });
  }

  /** Converts an image file (vmdk, vdi, vhdx, vpc, qcow2, raw) into a new volume. */
  async importVolume(pool: string, req: { name: string; file: string; sourceFormat: string; sizeOnHost: number; format?: VolumeFormat }, opts: VolumeOpOptions = {}): Promise<VolumeView> {
    return this.withNewName(pool, req.name, async (b) => {
      await this.needSpace(b, req.sizeOnHost, `importing ${req.file}`);
      const ref = await b.importFile(req.file, req.sourceFormat, req.name, req.format ?? 'qcow2', opts);
      this.log.info({ pool, volume: req.name, from: req.file, sourceFormat: req.sourceFormat }, 'volume imported');
      return b.info(ref);
    });
  }

  /** Deletes a volume no linked clone reads through (attachments are the caller's check). */
  async deleteVolume(pool: string, name: string): Promise<void> {
    return this.lock.run(`${pool}/${name}`, async () => {
      const b = await this.backend(pool);
      const ref = await this.mustFind(b, name);
      const deps = await this.dependentsOf(ref.path);
      if (deps.length > 0) fail('VOLUME_IN_USE', `volume ${pool}/${name} is the base of linked clone(s) ${deps.map((d) => `${d.pool}/${d.name}`).join(', ')}`);
      await b.remove(ref);
      this.log.info({ pool, volume: name }, 'volume deleted');
    });
  }

  private async backend(name: string): Promise<PoolBackend> {
    validateName(name, 'pool name');
    const c = (await this.catalogue.list()).find((p) => p.name === name);
    if (!c) fail('POOL_NOT_FOUND', `no pool named ${name}`);
    const b = this.backendFor(c);
    if (name === DEFAULT_POOL) await b.init();
    return b;
  }

  private async mustFind(b: PoolBackend, name: string): Promise<VolumeRef> {
    const ref = await b.find(name);
    if (!ref) fail('VOLUME_NOT_FOUND', `pool ${b.config.name} has no volume named ${name}`);
    return ref;
  }

  private async withNewName<T>(pool: string, name: string, fn: (b: PoolBackend) => Promise<T>): Promise<T> {
    validateName(name, 'volume name');
    return this.lock.run(`${pool}/${name}`, async () => {
      const b = await this.backend(pool);
      if (await b.find(name)) fail('VOLUME_EXISTS', `pool ${pool} already has a volume named ${name}`);
      return fn(b);
    });
  }

  private async needSpace(b: PoolBackend, bytes: number, what: string): Promise<void> {
    const { freeBytes } = await b.space();
    if (bytes > freeBytes) fail('INSUFFICIENT_SPACE', `${what} does not fit in pool ${b.config.name}: ${freeBytes} bytes free`);
  }

  private async view(b: PoolBackend): Promise<PoolView> {
    const [space, vols] = await Promise.all([b.space().catch(() => ({ capacityBytes: 0, freeBytes: 0, usedBytes: 0 })), b.list().catch(() => [])]);
    const infos = await Promise.all(vols.map((v) => b.info(v).catch(() => undefined)));
    const allocatedBytes = infos.reduce((n, i) => n + (i?.actualSize ?? 0), 0);
    return { ...b.config, ...space, default: b.config.name === DEFAULT_POOL, volumes: vols.length, allocatedBytes };
  }
}

function asRef(src: { path: string; format: string; pool?: string; name?: string }): VolumeRef {
  return { pool: src.pool ?? '', name: src.name ?? '', format: src.format as VolumeFormat, path: src.path };
}
