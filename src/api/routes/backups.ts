/** /v1/vms/:name/backups: create, list, show, verify, restore, prune. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { pruneBackups, restoreBackup, verifyBackup, type BackupService, type CreateBackupRequest, type RetentionPolicy } from '../../backup/index.js';
import type { OperationContext, OperationRegistry } from '../../lifecycle/index.js';
import { fail } from '../../shared/index.js';
import { bool, body, optString, strings } from './body.js';

interface NameParams { name: string }
interface IdParams { name: string; id: string }
const write = { config: { permission: 'vm:backup' as const } };
const read = { config: { permission: 'vm:read' as const } };
const KEEP = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly'] as const;

/** ?async=1: answer 202 with an operation at once. */
function wantsAsync(req: FastifyRequest): boolean {
  const v = (req.query as Record<string, unknown> | undefined)?.['async'];
  if (v !== undefined && !['1', 'true', '0', 'false'].includes(String(v))) fail('INVALID_ARGUMENT', 'async must be 1/true or 0/false');
  return v === '1' || v === 'true';
}

export function backupRoutes(app: FastifyInstance, backups: BackupService, ops?: OperationRegistry): void {
  app.get<{ Params: NameParams }>('/v1/vms/:name/backups', read, async (req) => backups.list(req.params.name));
  app.get<{ Params: IdParams }>('/v1/vms/:name/backups/:id', read, async (req) => backups.get(req.params.name, req.params.id));

  /** {full?, bwlimitMiB?}; ?async=1 answers 202 with an operation whose progress and detail (phase, doneBytes, totalBytes) follow the copy. */
  app.post<{ Params: NameParams }>('/v1/vms/:name/backups', write, async (req, reply) => {
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
  app.post<{ Params: IdParams }>('/v1/vms/:name/backups/:id/verify', write, async (req) => {
    const b = body(req.body ?? {});
    const t = b['bootTimeoutSeconds'];
    if (t !== undefined && (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 5 || t > 3600)) fail('INVALID_BODY', 'bootTimeoutSeconds must be a whole number from 5 to 3600');
    return verifyBackup(backups, req.params.name, req.params.id, bool(b, 'boot') ? { boot: { timeoutMs: (t ?? 300) * 1000 } } : {});
  });

  /** {toVm?, disks?, confirm?} */
  app.post<{ Params: IdParams }>('/v1/vms/:name/backups/:id/restore', write, async (req) => {
    const b = body(req.body ?? {});
    const toVm = optString(b, 'toVm');
    const disks = strings(b, 'disks');
    const confirm = bool(b, 'confirm');
    return restoreBackup(backups, req.params.name, req.params.id, { ...(toVm ? { toVm } : {}), ...(disks ? { disks } : {}), ...(confirm ? { confirm } : {}) });
  });

  /** {keepLast?, keepHourly?, keepDaily?, keepWeekly?, keepMonthly?, keepYearly?, dryRun?} */
  app.post<{ Params: NameParams }>('/v1/vms/:name/backups/prune', write, async (req) => {
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
