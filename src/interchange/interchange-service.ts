/**
 * `polyvisor import FILE` and `polyvisor export VM --format F --out DIR`
 * behind the API. Import: the descriptor is mapped (import-files.ts), every
 * warning refuses the import with --strict (INTERCHANGE_LOSSY), a dry run
 * returns the spec and warnings and writes nothing; a real import converts
 * each disk to qcow2 with qemu-img inside VmService.create's fill step, so a
 * failure halfway leaves no VM, no disk and no record. Export: a stopped VM's
 * disks are converted to the format the target expects into a staging folder
 * beside DIR, the descriptor is written by the format's pure writer, then a
 * manifest (OVF) and SHA256SUMS, and the folder is renamed to DIR only when
 * whole.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fail, validateAbsolutePath, validateName } from '../shared/index.js';
import { validateSpec, type ConfigExportView, type DiskSpec, type FileImportView, type VmSpec } from '../spec/index.js';
import { convertDisk, convertKeyed, createImage, imageInfo, managedDiskPath, qcow2ChainDepthSync, refuseOutsideReferences, type DiskFormat } from '../storage/index.js';
import { type FormatCodecs } from './formats.js';
import { planFromFile, type LocatedDisk } from './import-files.js';
import { writeManifest } from './manifest.js';
import { alongside, memberRegion, probeMember } from './ova-in-place.js';
import { openOva, type OpenedOva } from './ova-open.js';
import type { TarMember } from './tar-read.js';
import { openXva } from './xva-open.js';
import { ImportUploads } from './import-uploads.js';
import { writeTar } from './tar-write.js';
import { EXPORT_DISK_FORMAT, type ExportDisk, type InterchangeFormat, type ManifestEntry } from './types.js';

/** The part of VmService imports and exports use. */
export interface InterchangeVms {
  find(name: string): Promise<unknown>;
  get(name: string): Promise<{ id: string; name: string; spec: VmSpec; state: string }>;
  dirOf(rec: { id: string }): string;
  create(spec: VmSpec, fill?: (dir: string) => Promise<void>): Promise<{ name: string; state: string }>;
  /** Image path → passphrase of each encrypted disk (an export with decrypt reads them in clear). */
  imagePassphrases(rec: { id: string; name: string; spec: VmSpec }): Promise<Map<string, string>>;
}

export interface ImportFileRequest {
  path: string;
  name?: string;
  strict?: boolean;
  virtio?: boolean;
  dryRun?: boolean;
}

/** What an import answers (the API's FileImportView). */
export type ImportFileResult = FileImportView;

export interface ExportRequest {
  format: InterchangeFormat;
  out: string;
  /** Write encrypted disks in clear (refused without it). */
  decrypt?: boolean;
}

/** What an export answers (the API's ConfigExportView). */
export type ExportResultView = ConfigExportView;

export interface WorkContext {
  signal: AbortSignal;
  progress: (fraction: number) => void;
}

/** qemu-img's output format for an export disk (streamOptimized VMDK is its own DiskFormat). */
function storageFormat(format: InterchangeFormat): { disk: DiskFormat; file: ExportDisk['format']; ext: string } {
  const e = EXPORT_DISK_FORMAT[format as Exclude<InterchangeFormat, 'xva'>];
  if (e === undefined) fail('INTERCHANGE_INVALID', `${format} is not a format Polyvisor exports`);
  if (e.format === 'vmdk') return { disk: e.variant === 'streamOptimized' ? 'vmdk-stream' : 'vmdk', file: 'vmdk', ext: 'vmdk' };
  return { disk: e.format as DiskFormat, file: e.format, ext: e.format === 'vpc' ? 'vhd' : e.format };
}

export class InterchangeService {
  /** Files uploaded for import: under the state folder, beside the VMs' folder (the same file system as the disks they become). */
  readonly uploads: ImportUploads;

  /** `workDir`: where an OVA is extracted during its import (default: the system's temp folder); `uploads`: where uploads go. */
  constructor(private readonly o: { vms: InterchangeVms; codecs: FormatCodecs; workDir?: string; uploads?: ImportUploads }) {
    this.uploads = o.uploads ?? new ImportUploads(path.join(path.dirname(o.vms.dirOf({ id: 'x' })), '..', 'uploads'));
  }

  /** importFile, then removes the upload it read once a real import is done. */
  async importFile(req: ImportFileRequest, ctx: WorkContext): Promise<ImportFileResult> {
    const r = await this.importPath(req, ctx);
    if (req.dryRun !== true && this.uploads.holds(req.path)) await this.uploads.remove(req.path);
    return r;
  }

  private async importPath(req: ImportFileRequest, ctx: WorkContext): Promise<ImportFileResult> {
    validateAbsolutePath(req.path, 'import file');
    if (req.name !== undefined) validateName(req.name, 'VM name');
    const xva = /\.xva(\.gz)?$/i.test(req.path);
    if (!/\.ova$/i.test(req.path) && !xva) return this.importDescriptor(req.path, req, ctx);
    // An OVA or XVA: descriptor (and manifest) out first, verified; the disks only for a real import, all in a private folder removed afterwards.
    const st = await stat(req.path).catch(() => fail('FILE_NOT_FOUND', `${req.path}: no such file`));
    if (!st.isFile()) fail('INTERCHANGE_INVALID', `${req.path} is not a regular file`);
    const ova = xva ? await openXva(req.path, this.o.workDir ?? tmpdir(), ctx.signal) : await openOva(req.path, this.o.workDir ?? tmpdir(), ctx.signal);
    try {
      return await this.importDescriptor(ova.descriptor, req, ctx, ova);
    } finally {
      await ova.cleanup();
    }
  }

  private async importDescriptor(file: string, req: ImportFileRequest, ctx: WorkContext, ova?: OpenedOva): Promise<ImportFileResult> {
    const fp0 = await planFromFile(file, { ...(req.name === undefined ? {} : { name: req.name }), ...(req.virtio === true ? { virtio: true } : {}) }, this.o.codecs, ova?.members);
    const fp = ova === undefined ? fp0 : { ...fp0, format: ova.format, warnings: [...ova.warnings, ...fp0.warnings] };
    const byName = new Map(fp.disks.map((d) => [d.name, d]));
    const warnings = [...fp.warnings];
    // Disks whose file is missing: a dry run shows them; a real import cannot make them.
    const specDisks = (fp.plan.spec.disks ?? []).flatMap((d) => {
      const located = byName.get(d.name);
      if (located === undefined) return [d];
      if (located.found === undefined) return d.media === 'cdrom' ? [] : [{ ...d, path: undefined, size: located.capacity ?? 1024 ** 3 }];
      if (d.media === 'cdrom' && ova !== undefined) {
        warnings.push({ source: `disk ${d.name}`, message: `the ISO ${located.file} inside the ${ova.format.toUpperCase()} is not kept (the package is removed after import); attach an ISO on this host afterwards` });
        return [];
      }
      if (d.media === 'cdrom') return [{ ...d, path: located.found }];
      return [{ ...d, path: undefined, size: located.capacity ?? 1024 ** 2, format: 'qcow2' as const }];
    });
    const input = { ...fp.plan.spec, disks: specDisks };
    const disksView = fp.disks.map((d) => ({ name: d.name, file: ova === undefined ? d.found ?? d.file : d.file, format: d.format, found: d.found !== undefined }));
    if (req.strict === true && warnings.length > 0) {
      fail('INTERCHANGE_LOSSY', `${warnings.length} mapping warning(s) with --strict: ${warnings.map((w) => `${w.source}: ${w.message}`).join('; ')}`, { details: warnings.map((w) => ({ field: w.source, message: w.message })) });
    }
    if (req.dryRun === true) {
      let spec: Record<string, unknown> = input as Record<string, unknown>;
      try {
        spec = validateSpec(input);
      } catch (err) {
        warnings.push({ source: 'spec', message: `the mapped spec is not valid yet: ${(err as Error).message}` });
      }
      return { format: fp.format, spec, warnings, disks: disksView, dryRun: true };
    }
    const missing = fp.disks.filter((d) => d.found === undefined && (fp.plan.spec.disks ?? []).find((s) => s.name === d.name)?.media !== 'cdrom');
    if (missing.length > 0) fail('FILE_NOT_FOUND', `the descriptor's disk file(s) ${missing.map((d) => d.file).join(', ')} are missing; put them beside ${path.basename(req.path)}`);
    // An XVA's disks are reassembled (each chunk verified) first; an OVA's are read where they lie in it.
    const share = ova?.extractRest === undefined ? 0 : 0.3;
    if (ova?.extractRest !== undefined) await ova.extractRest({ signal: ctx.signal, onProgress: (f) => ctx.progress(share * f) });
    const inPlace = ova?.inPlace;
    const memberOf = (d: LocatedDisk): TarMember | undefined => inPlace?.member(path.relative(ova!.dir, d.found!).split(path.sep).join('/'));
    const isCdrom = (d: LocatedDisk): boolean => (fp.plan.spec.disks ?? []).find((s) => s.name === d.name)?.media === 'cdrom';
    // Sizes come from the images themselves, probed once (formats declared, never guessed for raw).
    const converted: Array<{ disk: LocatedDisk; virtualSize: number; member?: TarMember }> = [];
    for (const d of fp.disks) {
      if (d.found === undefined || isCdrom(d)) continue;
      const member = memberOf(d);
      if (inPlace !== undefined && member === undefined) fail('FILE_NOT_FOUND', `${path.basename(req.path)} holds no member ${d.file}`);
      if (member !== undefined) {
        converted.push({ disk: d, member, virtualSize: await probeMember(inPlace!.file, member, d.format, ctx.signal) });
        continue;
      }
      const info = await imageInfo(d.found, { ...(d.format === 'raw' || d.format === 'qcow2' ? { format: d.format } : {}), signal: ctx.signal });
      if (d.format !== 'raw' && d.format !== 'qcow2' && info.format !== d.format) fail('IMAGE_INVALID', `disk ${d.name} (${d.file}) was named as ${d.format} but is ${info.format}`);
      refuseOutsideReferences(d.found, info);
      converted.push({ disk: d, virtualSize: info.virtualSize });
    }
    // Every other member the manifest lists is checked before anything is made; the disks while they convert.
    if (inPlace !== undefined) {
      const inDisks = new Set(converted.map((c) => c.member!.name));
      await inPlace.verify([...ova!.members].filter((n) => !inDisks.has(n)), ctx.signal);
    }
    const sizes = new Map(converted.map((c) => [c.disk.name, c.virtualSize]));
    const spec = validateSpec({ ...input, disks: specDisks.map((d) => (sizes.has(d.name) ? { ...d, size: sizes.get(d.name)! } : d)) });
    if (await this.o.vms.find(spec.name)) fail('VM_EXISTS', `a VM named ${spec.name} already exists; give another with --name`);
    const total = converted.reduce((n, c) => n + c.virtualSize, 0) || 1;
    let done = 0;
    // Nothing is recorded before every disk is whole and verified: a mismatch found while converting removes the VM's folder.
    const vm = await this.o.vms.create(spec, async (dir) => {
      for (const c of converted) {
        const target = spec.disks.find((d) => d.name === c.disk.name)!;
        const convert = (signal: AbortSignal): Promise<void> => convertDisk(c.member === undefined ? c.disk.found! : inPlace!.file, managedDiskPath(target, dir), {
          to: 'qcow2', from: c.disk.format, overwrite: true, signal,
          ...(c.member === undefined ? {} : { region: memberRegion(c.member) }),
          onProgress: (f) => ctx.progress(share + ((1 - share) * (done + f * c.virtualSize)) / total),
        });
        if (c.member === undefined) await convert(ctx.signal);
        else await alongside(ctx.signal, convert, (signal) => inPlace!.verify([c.member!.name], signal));
        done += c.virtualSize;
      }
    });
    ctx.progress(1);
    return { format: fp.format, spec, warnings, disks: disksView, dryRun: false, vm: { name: vm.name, state: vm.state } };
  }

  async exportVm(name: string, req: ExportRequest, ctx: WorkContext): Promise<ExportResultView> {
    const out = validateAbsolutePath(req.out, 'output folder');
    const format = req.format;
    const write = this.o.codecs[format === 'ova' ? 'ovf' : format]?.write;
    if (write === undefined) fail('INTERCHANGE_INVALID', `exporting to ${format} is not available yet`);
    const rec = await this.o.vms.get(name);
    if (rec.state !== 'stopped' && rec.state !== 'created') fail('INVALID_TRANSITION', `${name} is ${rec.state}; export a stopped VM (its disks are copied at rest)`);
    // Encrypted disks are never written out in clear (docs/security.md "Encrypted disks").
    const encrypted = rec.spec.disks.filter((d) => d.encrypt === true).map((d) => d.name);
    if (encrypted.length && req.decrypt !== true) fail('ENCRYPTED_DISK_PLAINTEXT', `export of ${name} would write its encrypted disk${encrypted.length > 1 ? 's' : ''} ${encrypted.join(', ')} in clear; refused: add --decrypt (API: "decrypt": true) to write ${encrypted.length > 1 ? 'them' : 'it'} in clear`);
    const keys = encrypted.length ? await this.o.vms.imagePassphrases(rec) : new Map<string, string>();
    const existing = await readdir(out).catch(() => undefined);
    if (existing !== undefined && existing.length > 0) fail('INVALID_PATH', `${out} exists and is not empty; give a new or empty folder`);
    const target = storageFormat(format);
    const spec = rec.spec;
    const vmDir = this.o.vms.dirOf(rec);
    await mkdir(path.dirname(out), { recursive: true });
    const stage = await mkdtemp(path.join(path.dirname(out), `.${path.basename(out)}.partial-`));
    // An OVA's parts are made in a folder inside the stage, then packed into one tar.
    const work = format === 'ova' ? path.join(stage, 'parts') : stage;
    const convertShare = format === 'ova' ? 0.6 : 0.9;
    try {
      if (work !== stage) await mkdir(work);
      const disks = spec.disks.filter((d) => d.media === 'disk');
      const sources = await Promise.all(disks.map(async (d) => {
        const src = d.path ?? managedDiskPath(d, vmDir);
        const info = await imageInfo(src, { format: d.format, signal: ctx.signal });
        return { d, src, virtualSize: info.virtualSize };
      }));
      const total = sources.reduce((n, s) => n + s.virtualSize, 0) || 1;
      let done = 0;
      const exportDisks: ExportDisk[] = [];
      for (const [i, s] of sources.entries()) {
        const file = diskFileName(format, spec.name, s.d, i, target.ext);
        const pass = keys.get(s.src);
        let from = s.src;
        if (pass !== undefined) {
          // asked for (decrypt): the encrypted chain in clear first, inside the stage (0700, removed with it or moved out never)
          from = path.join(stage, `.decrypt-${i}.qcow2`);
          await createImage(from, 'qcow2', s.virtualSize);
          await convertKeyed({ path: s.src, format: 'qcow2', passphrase: pass, backingDepth: qcow2ChainDepthSync(s.src) }, { path: from, format: 'qcow2' }, { signal: ctx.signal });
        }
        await convertDisk(from, path.join(work, file), {
          to: target.disk, from: pass !== undefined ? 'qcow2' : s.d.format, direct: true, signal: ctx.signal,
          onProgress: (f) => ctx.progress((convertShare * (done + f * s.virtualSize)) / total),
        });
        if (pass !== undefined) await rm(from, { force: true });
        done += s.virtualSize;
        const st = await stat(path.join(work, file));
        exportDisks.push({ name: s.d.name, file, format: target.file, capacity: s.virtualSize, fileSize: st.size });
      }
      const result = write({ spec, disks: exportDisks });
      for (const f of result.files) await writeFile(path.join(work, f.name), f.content, { mode: 0o644 });
      const names = [...result.files.map((f) => f.name), ...exportDisks.map((d) => d.file)];
      const sums: ManifestEntry[] = [];
      for (const n of names) sums.push({ file: n, algorithm: 'sha256', digest: await sha256Of(path.join(work, n), ctx.signal) });
      if (format === 'ovf' || format === 'ova') {
        const mf = `${spec.name}.mf`;
        await writeFile(path.join(work, mf), writeManifest(sums, 'ovf'));
        sums.push({ file: mf, algorithm: 'sha256', digest: await sha256Of(path.join(work, mf), ctx.signal) });
      }
      if (format === 'ova') {
        // The descriptor first, then the manifest, then the disks: the order VMware's tools read.
        const order = [...result.files.map((f) => f.name), `${spec.name}.mf`, ...exportDisks.map((d) => d.file)];
        const bytes = order.length === 0 ? 1 : (await Promise.all(order.map(async (n) => (await stat(path.join(work, n))).size))).reduce((x, y) => x + y, 0) || 1;
        const ovaName = `${spec.name}.ova`;
        const packed = await writeTar(path.join(stage, ovaName), order.map((n) => ({ name: n, path: path.join(work, n) })), {
          signal: ctx.signal, onBytes: (n) => ctx.progress(convertShare + ((1 - convertShare) * Math.min(n, bytes)) / bytes),
        });
        await rm(work, { recursive: true, force: true });
        sums.splice(0, sums.length, { file: ovaName, algorithm: 'sha256', digest: packed.sha256 });
      }
      await writeFile(path.join(stage, 'SHA256SUMS'), writeManifest(sums, 'sums'));
      if (existing !== undefined) await rm(out, { recursive: true, force: true }); // it was empty
      await rename(stage, out);
      ctx.progress(1);
      const files = await Promise.all([...sums.map((s) => s.file), 'SHA256SUMS'].map(async (n) => ({
        name: n, bytes: (await stat(path.join(out, n))).size, sha256: sums.find((s) => s.file === n)?.digest ?? await sha256Of(path.join(out, n), ctx.signal),
      })));
      return { format, out, files, warnings: result.warnings };
    } catch (err) {
      await rm(stage, { recursive: true, force: true });
      throw err;
    }
  }
}

/** The disk's file name in the export: Proxmox's directory storage wants vm-VMID-disk-N. */
function diskFileName(format: InterchangeFormat, vm: string, d: DiskSpec, i: number, ext: string): string {
  if (format === 'proxmox') return `vm-100-disk-${i}.${ext}`;
  return `${vm}-${d.name}.${ext}`;
}

async function sha256Of(file: string, signal: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { signal })) h.update(chunk as Buffer);
  return h.digest('hex');
}
