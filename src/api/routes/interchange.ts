/**
 * Foreign VM formats (docs/interchange.md): POST /v1/imports reads a
 * descriptor the daemon can read (OVF or OVA, VMX, VirtualBox, Hyper-V, libvirt XML,
 * Proxmox) into a VM — or, with dryRun, only shows the mapped spec and its
 * warnings; POST /v1/vms/:name/export-config writes a stopped VM as another
 * hypervisor's config and disks into a folder. Both read or write host files
 * a request names, so both need storage:write (admins), like disk export.
 * Long work runs as an operation (async=true answers 202 at once).
 * POST /v1/import/upload takes the file itself (application/octet-stream,
 * streamed to disk under the state folder with a size cap, never buffered)
 * and answers where it is kept, to give as `path` to POST /v1/imports.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { InterchangeService } from '../../interchange/index.js';
import { INTERCHANGE_FORMATS } from '../../interchange/index.js';
import type { OperationRegistry } from '../../lifecycle/index.js';
import type { ConfigExportView, FileImportView } from '../../spec/index.js';
import { fail, validateName } from '../../shared/index.js';
import { configExportSchema, fileImportSchema, importUploadSchema, operationSchema } from '../schemas/index.js';
import { bodyOf, queryOf } from '../validate.js';

const tags = ['interchange'];
const actor = (req: FastifyRequest): string => req.principal?.actor ?? 'anonymous';
const asyncQuery = z.object({ async: z.enum(['true', 'false']).optional().describe('true: answer 202 with an operation at once') }).strict();
const ASYNC = { status: 202, description: 'async=true: the operation, at once (Location: /v1/operations/ID)', schema: operationSchema };

const importBody = z.object({
  path: z.string().describe('absolute path of the descriptor on the daemon\'s host (.ovf .vmx .vbox .xml .conf .ps1; its disks beside it), an .ova (its manifest verified before any disk is converted) or an .xva (each chunk verified), or the path POST /v1/import/upload answered'),
  name: z.string().optional().describe('the VM\'s name (default: the source\'s, made valid)'),
  pool: z.string().optional().describe('reserved: disks go to the VM\'s own folder'),
  strict: z.boolean().optional().describe('refuse the import when anything did not map (INTERCHANGE_LOSSY)'),
  virtio: z.boolean().optional().describe('switch emulated NICs and disk controllers to virtio'),
  dryRun: z.boolean().optional().describe('only map: answer the spec and warnings, create nothing'),
}).strict();

const exportBody = z.object({
  format: z.enum(INTERCHANGE_FORMATS.filter((f) => f !== 'xva') as [string, ...string[]]).describe('ova (one tar: descriptor, manifest, disks), ovf, vmx, vbox, hyperv, libvirt, proxmox'),
  out: z.string().describe('absolute path of a new or empty folder on the daemon\'s host'),
  decrypt: z.boolean().optional().describe('write encrypted disks in clear (refused with ENCRYPTED_DISK_PLAINTEXT without it)'),
}).strict();

const uploadQuery = z.object({
  filename: z.string().max(130).describe('the file\'s name with its extension (.ova .xva .ovf .vmx .vbox .xml .conf .ps1)'),
}).strict();

export function interchangeRoutes(app: FastifyInstance, interchange: InterchangeService, ops: OperationRegistry): void {
  // The raw body parser only in this scope: every other route keeps JSON bodies and their 1 MiB limit.
  void app.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
    scope.post('/v1/import/upload', {
      config: { permission: 'storage:write', doc: { summary: 'Upload a file to import (body: the file, application/octet-stream; size-capped); then POST /v1/imports with the path answered', tags, query: uploadQuery, response: { status: 201, description: 'where the upload is kept', schema: importUploadSchema } } },
    }, async (req, reply) => {
      const q = queryOf<z.infer<typeof uploadQuery>>(req);
      if (!(req.body instanceof Readable)) fail('INVALID_BODY', 'send the file itself as the request body, with content-type application/octet-stream');
      const up = await interchange.uploads.save(q.filename, req.body);
      return reply.status(201).send(up);
    });
  });

  app.post('/v1/imports', {
    config: { permission: 'storage:write', doc: { summary: 'Import a VM from another hypervisor\'s descriptor on this host (dryRun: show the mapped spec and warnings only)', tags, body: importBody, query: asyncQuery, response: { status: 200, description: 'the mapping, and the VM unless dryRun', schema: fileImportSchema }, otherResponses: [ASYNC] } },
  }, async (req, reply) => {
    const b = bodyOf<z.infer<typeof importBody>>(req);
    const q = queryOf<z.infer<typeof asyncQuery>>(req);
    const work = (ctx: { signal: AbortSignal; progress: (f: number) => void }): Promise<FileImportView> =>
      interchange.importFile({ path: b.path, ...(b.name === undefined ? {} : { name: b.name }), strict: b.strict === true, virtio: b.virtio === true, dryRun: b.dryRun === true }, ctx);
    if (b.dryRun === true) return work({ signal: AbortSignal.timeout(60_000), progress: () => undefined });
    if (q.async === 'true') {
      const op = ops.start('vm.import-file', b.name ?? b.path, actor(req), work);
      return reply.status(202).header('location', `/v1/operations/${op.id}`).send(op);
    }
    return ops.run('vm.import-file', b.name ?? b.path, actor(req), work);
  });

  app.post<{ Params: { name: string } }>('/v1/vms/:name/export-config', {
    config: { permission: 'storage:write', doc: { summary: 'Write a stopped VM as another hypervisor\'s config and disks (with SHA256SUMS) into a new folder', tags, body: exportBody, query: asyncQuery, response: { status: 200, description: 'the files written and what the format could not hold', schema: configExportSchema }, otherResponses: [ASYNC] } },
  }, async (req, reply) => {
    const name = validateName(req.params.name, 'VM name');
    const b = bodyOf<z.infer<typeof exportBody>>(req);
    const q = queryOf<z.infer<typeof asyncQuery>>(req);
    const work = (ctx: { signal: AbortSignal; progress: (f: number) => void }): Promise<ConfigExportView> =>
      interchange.exportVm(name, { format: b.format as (typeof INTERCHANGE_FORMATS)[number], out: b.out, ...(b.decrypt ? { decrypt: true } : {}) }, ctx);
    if (q.async === 'true') {
      const op = ops.start('vm.export-config', name, actor(req), work);
      return reply.status(202).header('location', `/v1/operations/${op.id}`).send(op);
    }
    return ops.run('vm.export-config', name, actor(req), work);
  });
}
