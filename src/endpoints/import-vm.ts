/**
 * Moving out (`polyvisor import ENDPOINT/VM`): a stopped VM of vSphere or
 * libvirt becomes a local QEMU VM. Its config is mapped through the spec by
 * the driver (what does not map is listed), its disks are copied (a file on
 * this host is read in place; otherwise the bytes are downloaded into a
 * private staging folder) and converted to qcow2 with progress, then the VM
 * is recorded and, unless told not to, started. A running source is refused
 * unless `shutdown`. A failure halfway leaves nothing: VmService.create
 * records the VM only once every disk is whole, and the staging folder goes.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { Capability, EndpointSession, ExportableDisk, ForeignVm } from '../drivers/index.js';
import type { VmService } from '../lifecycle/index.js';
import type { VmRecord } from '../store/index.js';
import { fail, isValidName, sleep } from '../shared/index.js';
import type { DiskSpec, VmSpec } from '../spec/index.js';
import { convertDisk, imageInfo, managedDiskPath, refuseOutsideReferences } from '../storage/index.js';

export interface ImportRequest {
  /** Name of the local VM (default: the source's, when it is a valid name). */
  name?: string;
  /** Shut a running source down first (else a running source is refused). */
  shutdown?: boolean;
  /** Start the local VM once imported (default true). */
  start?: boolean;
}

export interface ImportResult {
  vm: VmRecord;
  source: string;
  /** What of the source's config did not map, one sentence each. */
  lossy: string[];
  disks: Array<{ name: string; fromFormat: string; bytes: number }>;
}

export interface ImportContext {
  signal: AbortSignal;
  progress: (fraction: number) => void;
}

const SHUTDOWN_WAIT_MS = 300_000;

/** The part of EndpointService an import uses: the endpoint's session, its capability checked first. */
export interface SessionSource {
  withSession<T>(endpoint: string, cap: Capability, signal: AbortSignal, fn: (s: EndpointSession) => Promise<T>): Promise<T>;
}

export async function importForeignVm(o: { endpoints: SessionSource; vms: VmService; stagingDir: string }, endpoint: string, vm: string, req: ImportRequest, ctx: ImportContext): Promise<ImportResult> {
  return o.endpoints.withSession(endpoint, 'move.toLocal', ctx.signal, async (s) => {
    const src = await s.get(vm, ctx.signal);
    const name = req.name ?? src.name;
    if (!isValidName(name)) fail('INVALID_NAME', `the source's name ${JSON.stringify(src.name)} is not a valid VM name here; give one with --name`);
    if (await o.vms.find(name)) fail('VM_EXISTS', `a VM named ${name} already exists`);
    if (src.state !== 'stopped') await stopSource(s, src, req.shutdown === true, ctx.signal);
    const { spec: mapped, lossy } = await s.exporter!.toSpec(vm, ctx.signal);
    const disks = await s.exporter!.disks(vm, ctx.signal);
    if (disks.length === 0) fail('ENDPOINT_TASK_FAILED', `${endpoint}/${vm} has no disk to copy`);
    await mkdir(o.stagingDir, { recursive: true, mode: 0o700 });
    const stage = await mkdtemp(path.join(o.stagingDir, 'import-'));
    try {
      const total = disks.reduce((n, d) => n + d.sizeBytes, 0) || 1;
      let done = 0;
      const staged: Array<{ disk: ExportableDisk; file: string; virtualSize: number }> = [];
      // Copying is ~70 % of the work, converting the rest.
      for (const d of disks) {
        const file = d.localPath ?? (await download(d, stage, (b) => ctx.progress((0.7 * (done + b)) / total), ctx.signal));
        // qcow2 and raw are read as declared (never probed: a raw disk can hold a qcow2 header); others are probed and must match.
        const declared = d.format === 'qcow2' || d.format === 'raw' ? d.format : undefined;
        const info = await imageInfo(file, { ...(declared ? { format: declared } : {}), signal: ctx.signal });
        if (!declared && info.format !== d.format) fail('IMAGE_INVALID', `disk ${d.name} was announced as ${d.format} but is ${info.format}`);
        if (!d.localPath) refuseOutsideReferences(file, info);
        staged.push({ disk: d, file, virtualSize: info.virtualSize });
        done += d.sizeBytes;
      }
      const spec = localSpec(mapped, name, staged);
      let converted = 0;
      const totalVirtual = staged.reduce((n, x) => n + x.virtualSize, 0) || 1;
      const record = await o.vms.create(spec, async (dir) => {
        for (const x of staged) {
          const target = spec.disks.find((d) => d.name === diskName(x.disk.name))!;
          await convertDisk(x.file, managedDiskPath(target, dir), {
            to: 'qcow2', from: x.disk.format, overwrite: true, signal: ctx.signal,
            onProgress: (f) => ctx.progress(0.7 + (0.25 * (converted + f * x.virtualSize)) / totalVirtual),
          });
          converted += x.virtualSize;
        }
      });
      const vmRec = req.start === false ? record : await o.vms.start(name, { signal: ctx.signal });
      return { vm: vmRec, source: `${endpoint}/${vm}`, lossy, disks: staged.map((x) => ({ name: diskName(x.disk.name), fromFormat: x.disk.format, bytes: x.disk.sizeBytes })) };
    } finally {
      await rm(stage, { recursive: true, force: true });
    }
  });
}

/** A disk name of the spec from the hypervisor's ("Hard disk 1" → "hard-disk-1"). */
export function diskName(n: string): string {
  const s = n.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return s.length ? s : 'disk';
}

/** The mapped spec with the copied disks as new qcow2 disks in the VM's folder, in the source's order. */
function localSpec(mapped: VmSpec, name: string, staged: Array<{ disk: ExportableDisk; virtualSize: number }>): VmSpec {
  const byName = new Map(mapped.disks.map((d) => [diskName(d.name), d]));
  const disks: DiskSpec[] = staged.map((x, i) => {
    const m = byName.get(diskName(x.disk.name));
    const base = m ?? ({ name: diskName(x.disk.name), bus: 'virtio', media: 'disk', readOnly: false, cache: 'none', ...(i === 0 ? { boot: 1 } : {}) } as unknown as DiskSpec);
    const { path: _p, size: _s, ...rest } = base;
    return { ...rest, name: diskName(x.disk.name), format: 'qcow2', size: x.virtualSize } as DiskSpec;
  });
  // Only the copied disks come along: an ISO or other file of the source's host is not ours to name (the driver's lossy list says so).
  return { ...mapped, name, disks };
}

async function download(d: ExportableDisk, stage: string, onBytes: (b: number) => void, signal: AbortSignal): Promise<string> {
  const file = path.join(stage, `${diskName(d.name)}.${d.format}`);
  let n = 0;
  const count = new Transform({
    transform(chunk: Buffer, _e, cb) {
      n += chunk.length;
      onBytes(n);
      cb(null, chunk);
    },
  });
  await pipeline(await d.open(signal), count, createWriteStream(file, { mode: 0o600 }), { signal });
  return file;
}

async function stopSource(s: EndpointSession, src: ForeignVm, shutdown: boolean, signal: AbortSignal): Promise<void> {
  if (!shutdown) fail('FOREIGN_VM_RUNNING', `${src.name} is ${src.state}; its disks are copied at rest`);
  if (s.power?.shutdown && src.state === 'running') await s.power.shutdown(src.name, signal);
  else if (s.power?.kill) await s.power.kill(src.name, signal);
  else fail('CAPABILITY_NOT_SUPPORTED', `the source's driver cannot stop ${src.name}; stop it on the hypervisor, then import`);
  const until = Date.now() + SHUTDOWN_WAIT_MS;
  while (Date.now() < until) {
    if ((await s.get(src.name, signal)).state === 'stopped') return;
    await sleep(1000, signal);
  }
  fail('ENDPOINT_TASK_FAILED', `${src.name} did not stop within ${SHUTDOWN_WAIT_MS / 1000} s of the shutdown request; stop it on the hypervisor, then import`);
}
