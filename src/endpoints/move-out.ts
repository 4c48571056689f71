/**
 * `polyvisor vm move VM --to ENDPOINT` (move.fromLocal): a stopped local VM
 * becomes a VM of the endpoint. Its disks are copied as qcow2 into the folder
 * the endpoint's driver names (libvirt on this host: a directory its QEMU
 * reads), its spec is defined there, and the local VM is removed once the
 * foreign one exists (unless `keep`). Read-only images given by path (ISOs)
 * are shared by path, not copied. The local VM stays locked while its disks
 * are read; a failure removes what was copied and defined, and the local VM
 * is left as it was.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ForeignVm } from '../drivers/index.js';
import type { SessionSource } from './import-vm.js';
import type { VmService } from '../lifecycle/index.js';
import { fail, isPolyvisorError, type Logger } from '../shared/index.js';
import type { VmSpec } from '../spec/index.js';
import { convertDisk, resolveDiskPaths } from '../storage/index.js';

export interface MoveOutRequest {
  /** Start the VM on the endpoint once defined (default false). */
  start?: boolean;
  /** Keep the local VM (a copy rather than a move). */
  keep?: boolean;
}

export interface MoveOutResult {
  vm: ForeignVm;
  endpoint: string;
  copied: string[];
  shared: string[];
  localRemoved: boolean;
}

const MOVABLE = new Set(['created', 'stopped']);

export async function moveToEndpoint(
  o: { endpoints: SessionSource; vms: VmService; logger: Logger }, name: string, endpoint: string, req: MoveOutRequest,
  ctx: { signal: AbortSignal; progress: (f: number) => void },
): Promise<MoveOutResult> {
  return o.endpoints.withSession(endpoint, 'move.fromLocal', ctx.signal, async (s) => {
    const exists = await s.get(name, ctx.signal).then(() => true, (err: unknown) => {
      if (isPolyvisorError(err, 'FOREIGN_VM_NOT_FOUND')) return false;
      throw err;
    });
    if (exists) fail('VM_EXISTS', `${endpoint} already has a VM named ${name}`);
    const moved = await o.vms.exclusive(name, async (rec) => {
      if (!MOVABLE.has(rec.state)) fail('INVALID_TRANSITION', `VM ${name} is ${rec.state}; stop it first (its disks are copied at rest)`);
      const from = resolveDiskPaths(rec.spec, o.vms.dirOf(rec));
      const dir = s.importer!.diskDir(name);
      const copies = rec.spec.disks.filter((d) => d.media === 'disk' && !(d.readOnly && d.path !== undefined));
      const shared = rec.spec.disks.filter((d) => !copies.includes(d)).map((d) => d.name);
      const disks: Record<string, { path: string; format: string }> = {};
      for (const d of rec.spec.disks) if (!copies.includes(d)) disks[d.name] = { path: from[d.name]!, format: d.format };
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const made: string[] = [];
      try {
        for (const [i, d] of copies.entries()) {
          const to = path.join(dir, `${d.name}.qcow2`);
          made.push(to);
          await convertDisk(from[d.name]!, to, { to: 'qcow2', from: d.format, signal: ctx.signal, onProgress: (f) => ctx.progress((0.9 * (i + f)) / Math.max(1, copies.length)) });
          disks[d.name] = { path: to, format: 'qcow2' };
        }
        const spec: VmSpec = { ...rec.spec, disks: rec.spec.disks.map((d) => (copies.includes(d) ? { ...d, path: disks[d.name]!.path, size: undefined, format: 'qcow2' } : d)) as VmSpec['disks'] };
        const vm = await s.importer!.define(spec, disks, ctx.signal);
        return { vm, copied: copies.map((d) => d.name), shared };
      } catch (err) {
        for (const f of made) await rm(f, { force: true }).catch(() => undefined);
        throw err;
      }
    });
    let vm = moved.vm;
    if (req.start) {
      await s.power!.start!(name, ctx.signal);
      vm = await s.get(name, ctx.signal);
    }
    if (!req.keep) await o.vms.remove(name);
    o.logger.info({ vm: name, endpoint, copied: moved.copied, kept: req.keep === true }, 'vm moved to endpoint');
    ctx.progress(1);
    return { vm, endpoint, copied: moved.copied, shared: moved.shared, localRemoved: !req.keep };
  });
}
