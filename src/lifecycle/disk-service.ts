/**
 * Disks of VMs: attach and detach pool volumes and library images (hot-plug
 * into a running VM through the driver's DiskHotplug capability), refuse
 * deleting what a VM uses, export a VM's disks, import images as volumes.
 * Everything that touches a VM runs inside VmService.exclusive(), so it never
 * races start/stop/migrate; the spec changes through saveSpec().
 */
import { canHotplugDisks } from '../drivers/index.js';
import { fail, timeoutSignal, validateAbsolutePath, validateName, type Logger } from '../shared/index.js';
import { CLOUD_INIT_DISK, diskSchema, problemsOf, type DiskSpec, type VmSpec } from '../spec/index.js';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  convertKeyed, createImage, exportImages, imageInfo, probeFormat, qcow2ChainDepthSync, refuseOutsideReferences, resolveDiskPaths,
  type DiskFormat, type ExportProgress, type ExportResult, type ImageLibrary, type PoolService, type VolumeFormat, type VolumeView,
} from '../storage/index.js';
import type { VmRecord } from '../store/index.js';
import { statSize } from './file-size.js';
import { KeyedQueue } from './job-queue.js';
import type { VmService } from './vm-service.js';
import { vmDir } from './vm-paths.js';
import { refusePlaintext } from './disk-keys.js';

export interface DiskServiceOptions {
  vms: VmService;
  pools: PoolService;
  library: ImageLibrary;
  vmsDir: string;
  logger: Logger;
}

export interface AttachRequest {
  /** Disk name in the VM (default: the volume or image name). */
  name?: string;
  bus?: DiskSpec['bus'];
  readOnly?: boolean;
}

export interface AttachResult {
  vm: string;
  disk: DiskSpec;
  /** True when the disk was plugged into the running VM. */
  hotplugged: boolean;
}

const LIVE = new Set(['running', 'paused']);
const SPEC_ONLY = new Set(['created', 'stopped', 'error']);
const HOTPLUG_MS = 60_000;

export class DiskService {
  private readonly paths = new KeyedQueue();
  private readonly log: Logger;

  constructor(private readonly o: DiskServiceOptions) {
    this.log = o.logger.child({ component: 'disks' });
  }

  /** Attaches a pool volume as a virtio disk (hot-plugged when the VM runs). */
  async attachVolume(vm: string, pool: string, volume: string, req: AttachRequest = {}): Promise<AttachResult> {
    const v = await this.o.pools.getVolume(pool, volume);
    return this.paths.run(v.path, () => this.attach(vm, { name: req.name ?? volume, path: v.path, format: v.format, media: 'disk', bus: req.bus ?? 'virtio', readOnly: req.readOnly ?? false }));
  }

  /** Attaches a library image: an ISO as a CD-ROM (virtio-scsi on q35), a disk image read-only. */
  async attachImage(vm: string, image: string, req: AttachRequest = {}): Promise<AttachResult> {
    const img = await this.o.library.get(image);
    const iso = img.kind === 'iso';
    if (!iso && img.format !== 'qcow2' && img.format !== 'raw') {
      fail('FORMAT_UNSUPPORTED', `image ${image} is ${img.format}; make a volume of it first (\`polyvisor volume create --from-image ${image}\`)`);
    }
    return this.paths.run(img.path, () => this.attach(vm, {
      name: req.name ?? image, path: img.path, format: iso ? 'raw' : (img.format as VolumeFormat), media: iso ? 'cdrom' : 'disk',
      ...(req.bus ? { bus: req.bus } : {}), readOnly: true,
    }));
  }

  /** Detaches disk `name` (hot-unplugged when the VM runs); the image itself stays. */
  detach(vm: string, name: string): Promise<VmRecord> {
    validateName(name, 'disk name');
    return this.o.vms.exclusive(vm, async (rec, inst) => {
      const disk = rec.spec.disks.find((d) => d.name === name);
      if (!disk) fail('DISK_NOT_FOUND', `VM ${vm} has no disk named ${name}`);
      if (LIVE.has(rec.state)) {
        if (disk.media !== 'disk' || disk.bus !== 'virtio' || !canHotplugDisks(inst)) fail('HOTPLUG_UNSUPPORTED', `disk ${name} (${disk.media} on ${disk.bus}) cannot be unplugged while ${vm} runs`);
        await inst.detachDisk(name, timeoutSignal(HOTPLUG_MS));
      } else if (!SPEC_ONLY.has(rec.state)) {
        fail('INVALID_TRANSITION', `VM ${vm} is ${rec.state}; disks change while it is created, stopped or running`);
      }
      const out = await this.o.vms.saveSpec(rec, { ...rec.spec, disks: rec.spec.disks.filter((d) => d.name !== name) });
      this.log.info({ vm, disk: name, live: LIVE.has(rec.state) }, 'disk detached');
      return out;
    });
  }

  /** VMs whose spec uses `file` (by path). */
  async usersOf(file: string): Promise<string[]> {
    return (await this.o.vms.list()).filter((r) => r.spec.disks.some((d) => d.path === file)).map((r) => r.name);
  }

  /** Deletes a volume unless a VM uses it (or a linked clone reads through it). */
  async deleteVolume(pool: string, volume: string): Promise<void> {
    const v = await this.o.pools.getVolume(pool, volume);
    await this.paths.run(v.path, async () => {
      const users = await this.usersOf(v.path);
      if (users.length > 0) fail('VOLUME_IN_USE', `volume ${pool}/${volume} is attached to VM(s) ${users.join(', ')}`);
      await this.o.pools.deleteVolume(pool, volume);
    });
  }

  /** Removes a library image unless a VM uses it or a volume is a linked clone of it. */
  async removeImage(image: string): Promise<void> {
    const img = await this.o.library.get(image);
    await this.paths.run(img.path, async () => {
      const users = await this.usersOf(img.path);
      if (users.length > 0) fail('VOLUME_IN_USE', `image ${image} is attached to VM(s) ${users.join(', ')}`);
      const deps = await this.o.pools.dependentsOf(img.path);
      if (deps.length > 0) fail('VOLUME_IN_USE', `image ${image} is the base of linked clone(s) ${deps.map((d) => `${d.pool}/${d.name}`).join(', ')}`);
      await this.o.library.remove(image);
    });
  }

  /** A new volume from a library disk image: a converted full copy, or a linked clone on it. */
  async volumeFromImage(pool: string, image: string, req: { name: string; linked: boolean; format?: VolumeFormat }, onProgress?: (f: number) => void): Promise<VolumeView> {
    const img = await this.o.library.get(image);
    if (img.kind !== 'disk') fail('FORMAT_UNSUPPORTED', `image ${image} is an ISO; attach it as a CD-ROM instead`);
    return this.o.pools.cloneFrom({ ...img, actualSize: img.sizeBytes }, pool, req, onProgress ? { onProgress } : {});
  }

  /** Imports a disk image file from this host (vmdk, vdi, vhdx, vpc, qcow2, raw) as a new volume. */
  async importVolume(pool: string, req: { name: string; file: string; format?: VolumeFormat }, onProgress?: (f: number) => void): Promise<VolumeView> {
    const file = validateAbsolutePath(req.file, 'image file');
    const sourceFormat = await probeFormat(file);
    refuseOutsideReferences(file, await imageInfo(file)); // audit defect 12: no backing file or foreign extent
    return this.o.pools.importVolume(pool, { name: req.name, file, sourceFormat, sizeOnHost: await statSize(file), ...(req.format ? { format: req.format } : {}) }, onProgress ? { onProgress } : {});
  }

  /**
   * Exports a stopped VM's disks to `formats` in `outDir` (checked, compared,
   * SHA256SUMS). An encrypted disk is written in clear only with `decrypt`:
   * its chain is first decrypted with its passphrase into a plain qcow2 in a
   * 0700 folder inside `outDir` (where the clear outputs go anyway), removed
   * afterwards; the outputs are compared with that copy.
   */
  exportVm(vm: string, req: { formats: DiskFormat[]; outDir: string; disks?: string[]; decrypt?: boolean }, onProgress?: (p: ExportProgress) => void): Promise<ExportResult> {
    return this.o.vms.exclusive(vm, async (rec) => {
      if (!SPEC_ONLY.has(rec.state) && rec.state !== 'suspended') fail('INVALID_TRANSITION', `VM ${vm} is ${rec.state}; stop it first so its disks are consistent`);
      const paths = resolveDiskPaths(rec.spec, vmDir(this.o.vmsDir, rec.id));
      const disks = rec.spec.disks.filter((d) => d.media === 'disk' && (!req.disks || req.disks.includes(d.name)));
      for (const n of req.disks ?? []) if (!disks.some((d) => d.name === n)) fail('DISK_NOT_FOUND', `VM ${vm} has no hard disk named ${n}`);
      if (req.decrypt !== true) refusePlaintext(vm, disks);
      const outDir = validateAbsolutePath(req.outDir, 'output directory');
      const sources = disks.map((d) => ({ baseName: `${vm}-${d.name}`, path: paths[d.name]!, format: d.format }));
      const encrypted = disks.filter((d) => d.encrypt === true);
      let clear: string | undefined;
      try {
        if (encrypted.length > 0) {
          const keys = await this.o.vms.imagePassphrases(rec);
          await mkdir(outDir, { recursive: true, mode: 0o750 });
          clear = await mkdtemp(path.join(outDir, '.pv-decrypt-')); // 0700
          for (const s of sources) {
            const pass = keys.get(s.path);
            if (pass === undefined) continue;
            const plain = path.join(clear, `${s.baseName}.qcow2`);
            await createImage(plain, 'qcow2', (await imageInfo(s.path, { format: 'qcow2' })).virtualSize);
            await convertKeyed({ path: s.path, format: 'qcow2', passphrase: pass, backingDepth: qcow2ChainDepthSync(s.path) }, { path: plain, format: 'qcow2' });
            s.path = plain;
            s.format = 'qcow2';
          }
        }
        const r = await exportImages(sources, req.formats, outDir, onProgress ? { onProgress } : {});
        const original = new Map(sources.map((s, i) => [s.path, paths[disks[i]!.name]!]));
        this.log.info({ vm, formats: req.formats, outDir: r.outDir, files: r.files.length, decrypted: encrypted.map((d) => d.name) }, 'disks exported');
        return { ...r, files: r.files.map((f) => ({ ...f, source: original.get(f.source) ?? f.source })) };
      } finally {
        if (clear) await rm(clear, { recursive: true, force: true });
      }
    });
  }

  private attach(vm: string, input: Record<string, unknown>): Promise<AttachResult> {
    return this.o.vms.exclusive(vm, async (rec, inst) => {
      const disk = parseDisk({ ...input, ...(input['bus'] === undefined ? { bus: defaultBus(rec.spec, input['media'] === 'cdrom') } : {}) });
      if (disk.name === CLOUD_INIT_DISK && rec.spec.cloudInit) fail('DISK_EXISTS', `"${CLOUD_INIT_DISK}" is the cloud-init seed's disk`);
      const clash = rec.spec.disks.find((d) => d.name === disk.name || d.path === disk.path);
      if (clash) fail('DISK_EXISTS', `VM ${vm} already has ${clash.name === disk.name ? `a disk named ${disk.name}` : `${disk.path} as disk ${clash.name}`}`);
      if (rec.spec.disks.length >= 16) fail('SPEC_INVALID', `VM ${vm} already has 16 disks`);
      const live = LIVE.has(rec.state);
      if (live) {
        if (disk.media !== 'disk' || disk.bus !== 'virtio') fail('HOTPLUG_UNSUPPORTED', `a ${disk.media} on ${disk.bus} cannot be plugged into running VM ${vm}; only virtio disks can`);
        if (!canHotplugDisks(inst)) fail('HOTPLUG_UNSUPPORTED', `the driver of ${vm} cannot hot-plug disks`);
        await inst.attachDisk({ name: disk.name, path: disk.path!, format: disk.format, readOnly: disk.readOnly, cache: disk.cache }, timeoutSignal(HOTPLUG_MS));
      } else if (!SPEC_ONLY.has(rec.state)) {
        fail('INVALID_TRANSITION', `VM ${vm} is ${rec.state}; disks change while it is created, stopped or running`);
      }
      try {
        await this.o.vms.saveSpec(rec, { ...rec.spec, disks: [...rec.spec.disks, disk] });
      } catch (err) {
        if (live && canHotplugDisks(inst)) await inst.detachDisk(disk.name, timeoutSignal(HOTPLUG_MS)).catch(() => undefined);
        throw err;
      }
      this.log.info({ vm, disk: disk.name, path: disk.path, live }, 'disk attached');
      return { vm, disk, hotplugged: live };
    });
  }
}

function defaultBus(spec: VmSpec, cdrom: boolean): DiskSpec['bus'] {
  if (!cdrom) return 'virtio';
  return spec.machine.type === 'q35' ? 'scsi' : 'sata';
}

function parseDisk(input: Record<string, unknown>): DiskSpec {
  const r = diskSchema.safeParse(input);
  if (!r.success) {
    const p = problemsOf(r.error);
    fail('SPEC_INVALID', `invalid disk: ${p.map((x) => `${x.field}: ${x.message}`).join('; ')}`, { details: p });
  }
  return r.data;
}
