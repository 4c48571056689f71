/**
 * A full clone of a VM at rest: a new VM with the source's configuration (or
 * one the caller edited) whose writable disks start as copies of the
 * source's (qemu-img convert, so a chain of external snapshots is flattened;
 * the clone has no snapshots). Read-only images given by path (ISOs, shared
 * bases) are shared. The source stays locked (it cannot start) while its
 * disks are read; the clone is recorded only once every copy is whole, so a
 * failure leaves nothing of it behind.
 */
import { fail, timeoutSignal, validateName } from '../shared/index.js';
import type { DiskSpec, NetworkSpec, VmSpec } from '../spec/index.js';
import { convertImage, convertKeyed, imageInfo, managedDiskPath, resizeImage, resolveDiskPaths } from '../storage/index.js';
import type { VmRecord } from '../store/index.js';
import { faultPoint } from './fault-points.js';
import type { VmService } from './vm-service.js';
import path from 'node:path';

export interface CloneRequest {
  /** Name of the new VM; with `spec`, its name must be this (or absent there). */
  name: string;
  /** The new VM's configuration, edited from the source's (a validated spec); default: the source's. */
  spec?: VmSpec;
}

export interface CloneResult {
  record: VmRecord;
  /** Disks whose data were copied from the source. */
  copied: string[];
  /** Read-only images both VMs now use. */
  shared: string[];
  /** What differs from the source and why (MACs, port forwards). */
  notes: string[];
}

const CLONABLE = new Set(['created', 'stopped']);
const COPY_MS = 6 * 3600_000;

/** A source disk whose data go with the clone (a writable disk, or any disk Polyvisor made). */
const carriesData = (d: DiskSpec): boolean => d.media === 'disk' && (!d.readOnly || d.path === undefined);

export interface CloneOptions {
  /** Aborting stops the copy; nothing of the clone is left. */
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

/** The checks a clone makes before copying anything (the API runs them before answering an async request too). */
export async function checkClone(vms: VmService, source: string, req: CloneRequest): Promise<void> {
  validateName(req.name, 'VM name');
  if (req.spec && req.spec.name !== req.name) fail('INVALID_BODY', `the spec's name ${req.spec.name} differs from the clone's name ${req.name}`, { details: [{ field: 'spec.name', message: `must be ${req.name}` }] });
  clonable(await vms.get(source));
  if (await vms.find(req.name)) fail('VM_EXISTS', `a VM named ${req.name} already exists`);
}

function clonable(rec: VmRecord): void {
  if (!CLONABLE.has(rec.state)) fail('INVALID_TRANSITION', `VM ${rec.name} is ${rec.state}; stop it before cloning (a clone copies its disks at rest)`);
}

export async function cloneVm(vms: VmService, source: string, req: CloneRequest, o: CloneOptions = {}): Promise<CloneResult> {
  await checkClone(vms, source, req);
  return vms.exclusive(source, async (rec) => {
    clonable(rec);
    const signal = timeoutSignal(COPY_MS, o.signal);
    const from = resolveDiskPaths(rec.spec, vms.dirOf(rec));
    const notes: string[] = [];
    const base = req.spec ?? { ...rec.spec, name: req.name };
    const macs = new Set(rec.spec.networks.map((n) => n.mac));
    const networks = base.networks.map((n) => freshNetwork(n, macs, !req.spec, notes));
    const copies: Array<{ disk: DiskSpec; from: string; sourceFormat: DiskSpec['format']; virtualSize: number }> = [];
    const disks: DiskSpec[] = [];
    for (const d of base.disks) {
      const src = rec.spec.disks.find((s) => s.name === d.name);
      if (!src || !carriesData(src) || !carriesData(d)) {
        disks.push(d);
        continue;
      }
      const virtualSize = (await imageInfo(from[d.name]!, { format: src.format, signal })).virtualSize;
      const size = d.size ?? virtualSize;
      if (size < virtualSize) fail('INVALID_BODY', `disk ${d.name} of the clone cannot be smaller than the source's (${virtualSize} bytes)`, { details: [{ field: `disks.${d.name}.size`, message: `at least ${virtualSize}` }] });
      // An encrypted disk is cloned into a new encrypted image under its own new passphrase (docs/security.md), never into a plain one.
      if (src.encrypt === true && d.encrypt !== true) fail('ENCRYPTED_DISK_PLAINTEXT', `disk ${d.name} of ${source} is encrypted and the clone's spec would copy it in clear; keep encrypt: true`);
      const { path: _path, ...rest } = d;
      const disk: DiskSpec = { ...rest, size };
      disks.push(disk);
      copies.push({ disk, from: from[d.name]!, sourceFormat: src.format, virtualSize });
    }
    const spec: VmSpec = { ...base, networks, disks };
    const shared = disks.filter((d) => d.path !== undefined).map((d) => d.name);
    const total = copies.reduce((s, c) => s + c.virtualSize, 0) || 1;
    let done = 0;
    const sourceKeys = await vms.imagePassphrases(rec);
    const record = await vms.create(spec, async (dir) => {
      const cloneKeys = await vms.imagePassphrases({ id: path.basename(dir), name: req.name, spec });
      for (const c of copies) {
        const to = managedDiskPath(c.disk, dir);
        const progress = o.onProgress ? { onProgress: (f: number) => o.onProgress!((done + f * c.virtualSize) / total) } : {};
        if (c.disk.encrypt === true) {
          // the encrypted image was made at its full size by create(): copied into, under the clone's own passphrase
          await convertKeyed({ path: c.from, format: c.sourceFormat, passphrase: sourceKeys.get(c.from) }, { path: to, format: c.disk.format, passphrase: cloneKeys.get(to) }, { signal, ...progress });
          done += c.virtualSize;
          await faultPoint('clone:after-copy');
          signal.throwIfAborted();
          continue;
        }
        await convertImage(c.from, to, {
          format: c.disk.format, sourceFormat: c.sourceFormat, overwrite: true, signal,
          ...(o.onProgress ? { onProgress: (f: number) => o.onProgress!((done + f * c.virtualSize) / total) } : {}),
        });
        if (c.disk.size! > c.virtualSize) await resizeImage(to, c.disk.format, c.disk.size!, { signal });
        done += c.virtualSize;
        await faultPoint('clone:after-copy');
        signal.throwIfAborted();
      }
    });
    vms.log.info({ vm: source, clone: req.name, copied: copies.map((c) => c.disk.name), shared }, 'vm cloned');
    return { record, copied: copies.map((c) => c.disk.name), shared, notes };
  });
}

/**
 * No MAC of the source (the clone's is derived from its own id) and, for a
 * clone of the source's own spec, no host port forwards (both VMs could not
 * listen on them; a caller-edited spec keeps what the caller chose).
 */
function freshNetwork(n: NetworkSpec, sourceMacs: ReadonlySet<string | undefined>, dropForwards: boolean, notes: string[]): NetworkSpec {
  const { mac, ...rest } = n;
  const out: NetworkSpec = mac !== undefined && !sourceMacs.has(mac) ? n : rest;
  if (mac !== undefined && sourceMacs.has(mac)) notes.push(`network ${n.name}: the source's MAC ${mac} is not copied; the clone gets its own`);
  if (!dropForwards || n.portForwards.length === 0) return out;
  notes.push(`network ${n.name}: host port forwards (${n.portForwards.map((p) => `${p.hostAddress}:${p.hostPort}`).join(', ')}) are not copied: both VMs could not listen on them; add new ones with an edit`);
  return { ...out, portForwards: [] };
}
