/** /v1/vms/:name/disks and /v1/vms/:name/export: attach, detach (hot-plug when running), export. */
import type { FastifyInstance } from 'fastify';
import { fail } from '../../shared/index.js';
import { parseFormatList } from '../../storage/index.js';
import { withProgress } from '../progress-stream.js';
import { bool, body, optString, str, strings } from './body.js';
import type { StorageServices } from './storage.js';
import { attachSchema, exportSchema, progressQuery, progressStream } from '../schemas/index.js';

interface NameParams { name: string }
const BUSES = ['virtio', 'sata', 'scsi'] as const;
const tags = ['storage'];

export function vmDiskRoutes(app: FastifyInstance, s: StorageServices): void {
  /** {pool, volume, name?, bus?, readOnly?} | {image, name?, bus?} */
  app.post<{ Params: NameParams }>('/v1/vms/:name/disks', {
    config: { permission: 'storage:write', doc: { summary: 'Attach a pool volume or a library image to a VM (hot-plugged when it runs)', tags, response: { status: 201, description: 'the disk as the spec now has it', schema: attachSchema } } },
  }, async (req, reply) => {
    const b = body(req.body);
    const bus = b['bus'];
    if (bus !== undefined && !(BUSES as readonly unknown[]).includes(bus)) fail('INVALID_BODY', `bus must be one of ${BUSES.join(', ')}`);
    const r = { ...(optString(b, 'name') ? { name: str(b, 'name') } : {}), ...(bus ? { bus: bus as (typeof BUSES)[number] } : {}), ...(bool(b, 'readOnly') !== undefined ? { readOnly: bool(b, 'readOnly')! } : {}) };
    const image = optString(b, 'image');
    const out = image !== undefined
      ? await s.disks.attachImage(req.params.name, image, r)
      : await s.disks.attachVolume(req.params.name, str(b, 'pool'), str(b, 'volume'), r);
    return reply.status(201).send(out);
  });

  app.delete<{ Params: NameParams & { disk: string } }>('/v1/vms/:name/disks/:disk', {
    config: { permission: 'storage:write', doc: { summary: 'Detach a disk (unplugged when the VM runs); its volume stays', tags, response: { status: 204, description: 'detached' } } },
  }, async (req, reply) => {
    await s.disks.detach(req.params.name, req.params.disk);
    return reply.status(204).send();
  });

  /** {formats: "vdi,vhdx" | [..], outDir, disks?, decrypt?} (decrypt: write encrypted disks in clear, only when asked) */
  app.post<{ Params: NameParams }>('/v1/vms/:name/export', {
    config: { permission: 'storage:write', doc: { summary: 'Export the disks of a stopped VM to vdi, vhdx, vmdk, qcow2… in a directory, with a SHA256SUMS', tags, response: { status: 200, description: 'the files written', schema: exportSchema }, query: progressQuery, otherResponses: [progressStream] } },
  }, async (req, reply) => {
    const b = body(req.body);
    const f = b['formats'];
    if (typeof f !== 'string' && !Array.isArray(f)) fail('INVALID_BODY', 'formats must be a list like "vdi,vhdx,vmdk,qcow2"');
    const formats = parseFormatList(f as string | string[]);
    const disks = strings(b, 'disks');
    const outDir = str(b, 'outDir');
    const decrypt = bool(b, 'decrypt');
    return withProgress(req, reply, 200, (report) => s.disks.exportVm(req.params.name, { formats, outDir, ...(disks ? { disks } : {}), ...(decrypt ? { decrypt } : {}) }, (p) => report({ ...p })));
  });
}
