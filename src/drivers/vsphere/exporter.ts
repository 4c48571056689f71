/**
 * move.toLocal: the disks of a stopped VM as byte streams over datastore HTTP
 * access (GET /folder/<path>?dcPath=…&dsName=… with the session's cookie; the
 * way vcsim serves disks — it has no ExportVm NFC lease). Each `.vmdk` is
 * sniffed first (a ranged GET of its head): a sparse or streamOptimized file is
 * handed over as vmdk; a descriptor with one flat extent hands over the extent
 * as raw; a disk with a parent (a snapshot's delta) is refused. toSpec is in
 * to-spec.ts.
 */
import type { IncomingMessage } from 'node:http';
import { PolyvisorError } from '../../shared/index.js';
import type { ExportableDisk, ForeignExporter } from '../endpoint.js';
import { folderUrlPath, parseDatastorePath, sibling, sniffVmdk, type DatastorePath } from './datastore-files.js';
import { readDevices } from './devices.js';
import type { Inventory } from './inventory.js';
import type { Properties } from './property-collector.js';
import type { SoapClient } from './soap-client.js';
import { ref, text, type MoRef, type Node } from './soap-envelope.js';
import { vmToSpec } from './to-spec.js';

const HEAD_BYTES = 4096;

export function exporterPart(soap: SoapClient, props: Properties, inv: Inventory): ForeignExporter {
  const t = soap.transport;

  const get = async (p: DatastorePath, dcPath: string, signal: AbortSignal, range?: string): Promise<IncomingMessage> => {
    const what = `download of [${p.datastore}] ${p.path}`;
    const res = await t.request({
      method: 'GET', path: folderUrlPath(p, dcPath), headers: { ...soap.cookieHeader, ...(range ? { Range: range } : {}) },
      signal, what, noCeiling: !range,
    });
    const code = res.statusCode ?? 0;
    if (code === 200 || code === 206 || code === 416) return res;
    res.resume();
    if (code === 401 || code === 403) throw new PolyvisorError('ENDPOINT_AUTH_FAILED', `${t.opts.label} refused the ${what} (HTTP ${code})`);
    throw new PolyvisorError('ENDPOINT_PROTOCOL', `${t.opts.label} answered HTTP ${code} to the ${what}`);
  };

  /** The file's size and first bytes. */
  const peek = async (p: DatastorePath, dcPath: string, signal: AbortSignal): Promise<{ size: number; head: Buffer }> => {
    const res = await get(p, dcPath, signal, `bytes=0-${HEAD_BYTES - 1}`);
    const total = /\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
    const chunks: Buffer[] = [];
    let n = 0;
    if (res.statusCode !== 416) {
      for await (const c of res) {
        chunks.push(c as Buffer);
        n += (c as Buffer).length;
        if (n >= HEAD_BYTES) break;
      }
    }
    res.destroy();
    const size = total ? Number(total[1]) : res.statusCode === 416 ? 0 : Number(res.headers['content-length'] ?? n);
    return { size, head: Buffer.concat(chunks).subarray(0, HEAD_BYTES) };
  };

  /** The datacenter's inventory path (dcPath): its name, under any folders. */
  const dcPathOf = async (vm: MoRef, signal: AbortSignal, name: string): Promise<string> => {
    let obj: MoRef | null = vm;
    const names: string[] = [];
    let inDc = false;
    for (let i = 0; obj && i < 32; i++) {
      if (obj.value === soap.content.rootFolder.value) break;
      const p = await props.one(obj, ['name', 'parent'], signal, name);
      if (obj.type === 'Datacenter') inDc = true;
      if (inDc) names.unshift(text(p.name) ?? obj.value);
      obj = ref(p.parent);
    }
    if (!inDc) throw new PolyvisorError('ENDPOINT_PROTOCOL', `VM ${name} is not inside a datacenter`);
    return names.join('/');
  };

  return {
    async disks(vm, signal): Promise<ExportableDisk[]> {
      const self = await inv.resolve(vm, signal);
      const p = await props.one(self, ['runtime.powerState', 'config.hardware.device'], signal, vm);
      const state = text(p['runtime.powerState']);
      if (state !== 'poweredOff') throw new PolyvisorError('FOREIGN_VM_RUNNING', `VM ${vm} is ${state}: its disks are copied only while it is powered off`);
      const dcPath = await dcPathOf(self, signal, vm);
      const out: ExportableDisk[] = [];
      for (const d of readDevices(p['config.hardware.device']).disks) {
        const dp = d.fileName ? parseDatastorePath(d.fileName) : null;
        if (!dp) throw new PolyvisorError('ENDPOINT_PROTOCOL', `disk "${d.name}" of ${vm} has no datastore file (backing ${d.backing ?? 'unknown'})`);
        if (d.hasParent) {
          throw new PolyvisorError('INVALID_TRANSITION', `disk "${d.name}" of ${vm} is a snapshot's delta (${d.fileName}): delete or consolidate the VM's snapshots in vSphere before moving it`);
        }
        const { size, head } = await peek(dp, dcPath, signal);
        const kind = sniffVmdk(head);
        let file = dp;
        let format = 'vmdk';
        let bytes = size;
        if (kind.kind === 'descriptor') {
          const flat = kind.extents.length === 1 && ['FLAT', 'VMFS'].includes(kind.extents[0]!.type) && kind.extents[0]!.offset === 0 ? sibling(dp, kind.extents[0]!.file) : null;
          if (!flat) {
            throw new PolyvisorError('ENDPOINT_PROTOCOL', `disk "${d.name}" of ${vm} is a ${kind.createType ?? 'split'} vmdk with ${kind.extents.length} extent(s) (${kind.extents.map((e) => e.type).join(', ')}); the driver copies single-file and single flat-extent disks`);
          }
          file = flat;
          format = 'raw';
          bytes = (await peek(flat, dcPath, signal)).size;
        } else if (kind.kind === 'empty') {
          format = 'raw'; // an empty file (vcsim's default disks): zero bytes of raw
        } else if (kind.kind === 'unknown') {
          throw new PolyvisorError('ENDPOINT_PROTOCOL', `disk "${d.name}" of ${vm} (${d.fileName}) is neither a vmdk nor a vmdk descriptor`);
        }
        const target = file;
        out.push({
          name: d.name,
          sizeBytes: bytes,
          format,
          open: async (sig) => t.body(await get(target, dcPath, sig), `download of [${target.datastore}] ${target.path}`, sig),
        });
      }
      return out;
    },
    async toSpec(vm, signal) {
      const self = await inv.resolve(vm, signal);
      const p = await props.one(self, ['name', 'config'], signal, vm);
      return vmToSpec(p.name, p.config as Node | undefined);
    },
  };
}
