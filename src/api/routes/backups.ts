/** /v1/vms/:name/backups: create, list, show, verify, restore, prune. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { pruneBackups, restoreBackup, verifyBackup, type BackupService, type CreateBackupRequest, type RetentionPolicy } from '../../backup/index.js';
import type { OperationContext, OperationRegistry } from '../../lifecycle/index.js';
import { fail } from '../../shared/index.js';
import { bool, body, optString, strings } from './body.js';
import { z } from 'zod';
import type { ResponseDoc } from '../auth/principal.js';
import { backupSchema, operationSchema, pruneSchema, restoreSchema, verifySchema } from '../schemas/index.js';

interface NameParams { name: string }
interface IdParams { name: string; id: string }
const tags = ['backups'];
const asyncQuery = z.object({ async: z.enum(['1', 'true', '0', 'false']).optional().describe('1/true: answer 202 with an operation at once') });
const write = (summary: string, response: ResponseDoc, otherResponses: ResponseDoc[] = []) => ({ config: { permission: 'vm:backup' as const, doc: { summary, tags, response, otherResponses, ...(otherResponses.length ? { query: asyncQuery } : {}) } } });
const read = (summary: string, response: ResponseDoc) => ({ config: { permission: 'vm:read' as const, doc: { summary, tags, response } } });
const KEEP = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly'] as const;

/** ?async=1: answer 202 with an operation at once. */
function wantsAsync(req: FastifyRequest): boolean {
  const v = (req.query as Record<string, unknown> | undefined)?.['async'];
  if (v !== undefined && !['1', 'true', '0', 'false'].includes(String(v))) fail('INVALID_ARGUMENT', 'async must be 1/true or 0/false');
  return v === '1' || v === 'true';
}

export function backupRoutes(app: FastifyInstance, backups: BackupService, ops?: OperationRegistry): void {
  app.get<{ Params: NameParams }>('/v1/vms/:name/backups', read('The backups of a VM, oldest first', { status: 200, description: 'the backups', schema: z.array(backupSchema) }), async (req) => backups.list(req.params.name));
  app.get<{ Params: IdParams }>('/v1/vms/:name/backups/:id', read('One backup', { status: 200, description: 'the backup', schema: backupSchema }), async (req) => backups.get(req.params.name, req.params.id));

  /** {full?, bwlimitMiB?}; ?async=1 answers 202 with an operation whose progress and detail (phase, doneBytes, totalBytes) follow the copy. */
  app.post<{ Params: NameParams }>('/v1/vms/:name/backups', write('Back up a VM {full?, bwlimitMiB?}: incremental when its bitmap can be trusted', { status: 201, description: 'the backup', schema: backupSchema }, [
    { status: 202, description: 'async=1: the operation, at once; its result is the backup', schema: operationSchema },
  ]), async (req, reply) => {
    const b = body(req.body ?? {});
    const full = bool(b, 'full');
    const bw = b['bwlimitMiB'];
    if (bw !== undefined && (typeof bw !== 'number' || !Number.isSafeInteger(bw) || bw < 1 || bw > 1_000_000)) fail('INVALID_BODY', 'bwlimitMiB must be a whole number of MiB/s from 1 to 1000000');
    const r: CreateBackupRequest = { ...(full ? { full } : {}), ...(bw !== undefined ? { bwlimitMiB: bw } : {}) };
    const name = req.params.name;
    if (!wantsAsync(req) || !ops) return reply.status(201).send(await backups.create(name, r));
    await backups.list(name); // 404 now rather than a failed operation later
    const op = ops.start('vm.backup', name, req.principal?.actor ?? 'anonymous', (ctx: OperationContext) => backups.create(name, r, (p) => {
      if (p.totalBytes > 0) ctx.progress(p.doneBytes / p.totalBytes);
      ctx.detail?.({ ...p });
    }));
    return reply.status(202).header('location', `/v1/operations/${op.id}`).send(op);
  });

  /** {boot?, bootTimeoutSeconds?}: boot restores into a scratch VM and waits for the guest's readiness line. */
  app.post<{ Params: IdParams }>('/v1/vms/:name/backups/:id/verify', write('Verify a backup\'s files (checksums, qemu-img check); boot: also boot a scratch VM from it', { status: 200, description: 'what was checked and any problems', schema: verifySchema }), async (req) => {
    const b = body(req.body ?? {});
    const t = b['bootTimeoutSeconds'];
    if (t !== undefined && (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 5 || t > 3600)) fail('INVALID_BODY', 'bootTimeoutSeconds must be a whole number from 5 to 3600');
    return verifyBackup(backups, req.params.name, req.params.id, bool(b, 'boot') ? { boot: { timeoutMs: (t ?? 300) * 1000 } } : {});
  });

  /** {toVm?, disks?, confirm?} */
  app.post<{ Params: IdParams }>('/v1/vms/:name/backups/:id/restore', write('Restore a backup {toVm?, disks?, confirm?}', { status: 200, description: 'what was restored', schema: restoreSchema }), async (req) => {
    const b = body(req.body ?? {});
    const toVm = optString(b, 'toVm');
    const disks = strings(b, 'disks');
    const confirm = bool(b, 'confirm');
    return restoreBackup(backups, req.params.name, req.params.id, { ...(toVm ? { toVm } : {}), ...(disks ? { disks } : {}), ...(confirm ? { confirm } : {}) });
  });

  /** {keepLast?, keepHourly?, keepDaily?, keepWeekly?, keepMonthly?, keepYearly?, dryRun?} */
  app.post<{ Params: NameParams }>('/v1/vms/:name/backups/prune', write('Remove backups a retention policy does not keep {keepLast?…, dryRun?}', { status: 200, description: 'kept (and why) and removed', schema: pruneSchema }), async (req) => {
    const b = body(req.body ?? {});
    const policy: RetentionPolicy = {};
    for (const k of KEEP) {
      const v = b[k];
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > 10_000) fail('INVALID_BODY', `${k} must be a whole number from 0 to 10000`);
      policy[k] = v;
    }
    return pruneBackups(backups, req.params.name, policy, bool(b, 'dryRun') ?? false);
  });
}
