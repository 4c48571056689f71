/** A directory pool: each volume is `<dir>/<name>.<qcow2|raw>`; temp files are hidden (`.name.*.tmp`). */
import { mkdir, readdir, statfs, unlink } from 'node:fs/promises';
import { fail, safeJoin, validateName } from '../../shared/index.js';
import { compareImages, convertDisk, createOverlay, resizeImage } from '../convert-any.js';
import { createImage, imageInfo } from '../qemu-img.js';
import { VOLUME_FORMATS, type PoolBackend, type PoolConfig, type PoolSpace, type VolumeFormat, type VolumeOpOptions, type VolumeRef, type VolumeView } from './types.js';

export class DirPool implements PoolBackend {
  constructor(readonly config: PoolConfig) {}

  async init(): Promise<void> {
    await mkdir(this.config.path, { recursive: true, mode: 0o750 });
  }

  async space(): Promise<PoolSpace> {
    const s = await statfs(this.config.path);
    const capacityBytes = s.blocks * s.bsize;
    const freeBytes = s.bavail * s.bsize;
    return { capacityBytes, freeBytes, usedBytes: capacityBytes - s.bfree * s.bsize };
  }

  async list(): Promise<VolumeRef[]> {
    const out: VolumeRef[] = [];
    for (const entry of (await readdir(this.config.path, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (!entry.isFile() || entry.name.startsWith('.')) continue;
      const m = /^(.+)\.(qcow2|raw)$/.exec(entry.name);
      if (m) out.push(this.ref(m[1]!, m[2] as VolumeFormat));
    }
    return out;
  }

  async find(name: string): Promise<VolumeRef | undefined> {
    validateName(name, 'volume name');
    return (await this.list()).find((v) => v.name === name);
  }

  async info(ref: VolumeRef): Promise<VolumeView> {
    const i = await imageInfo(ref.path, { format: ref.format, forceShare: true });
    return { ...ref, virtualSize: i.virtualSize, actualSize: i.actualSize ?? null, backingFile: i.fullBackingFile ?? i.backingFile ?? null };
  }

  async create(name: string, format: VolumeFormat, sizeBytes: number, opts: VolumeOpOptions = {}): Promise<VolumeRef> {
    const ref = this.ref(name, format);
    await createImage(ref.path, format, sizeBytes, opts);
    return ref;
  }

  async resize(ref: VolumeRef, sizeBytes: number, opts: VolumeOpOptions = {}): Promise<void> {
    await resizeImage(ref.path, ref.format, sizeBytes, opts);
  }

  async clone(src: VolumeRef, name: string, o: VolumeOpOptions & { linked: boolean; format?: VolumeFormat }): Promise<VolumeRef> {
    if (o.linked) {
      if (o.format === 'raw') fail('FORMAT_UNSUPPORTED', 'a linked clone is always qcow2 (raw has no backing file)');
      const ref = this.ref(name, 'qcow2');
      await createOverlay(src.path, src.format, ref.path, o);
      o.onProgress?.(1);
      return ref;
    }
    const ref = this.ref(name, o.format ?? src.format);
    await convertDisk(src.path, ref.path, { ...o, from: src.format, to: ref.format });
    return ref;
  }

  async importFile(file: string, sourceFormat: string, name: string, format: VolumeFormat, opts: VolumeOpOptions = {}): Promise<VolumeRef> {
    const ref = this.ref(name, format);
    await convertDisk(file, ref.path, { ...opts, from: sourceFormat, to: format });
    if (!(await compareImages(file, sourceFormat, ref.path, format, opts))) {
      await unlink(ref.path).catch(() => undefined);
      fail('EXPORT_VERIFY_FAILED', `importing ${file} into ${ref.pool}/${name}: the copy differs from the source`);
    }
    return ref;
  }

  async remove(ref: VolumeRef): Promise<void> {
    await unlink(ref.path);
  }

  private ref(name: string, format: VolumeFormat): VolumeRef {
    validateName(name, 'volume name');
    if (!VOLUME_FORMATS.includes(format)) fail('FORMAT_UNSUPPORTED', `a volume is qcow2 or raw, not ${JSON.stringify(format)}`);
    return { pool: this.config.name, name, format, path: safeJoin(this.config.path, `${name}.${format}`) };
  }
}
