/** /v1/vms/:name/backups: create, list, show, verify, restore, prune. */
import type { FastifyInstance } from 'fastify';
import { pruneBackups, restoreBackup, verifyBackup, type BackupService, type RetentionPolicy } from '../../backup/index.js';
import { fail } from '../../shared/index.js';
import { bool, body, optString, strings } from './body.js';

interface NameParams { name: string }
interface IdParams { name: string; id: string }
const write = { config: { permission: 'vm:backup' as const } };
const read = { config: { permission: 'vm:read' as const } };
const KEEP = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly'] as const;

export function backupRoutes(app: FastifyInstance, backups: BackupService): void {
  app.get<{ Params: NameParams }>('/v1/vms/:name/backups', read, async (req) => backups.list(req.params.name));
  app.get<{ Params: IdParams }>('/v1/vms/:name/backups/:id', read, async (req) => backups.get(req.params.name, req.params.id));

  /** {full?} */
  app.post<{ Params: NameParams }>('/v1/vms/:name/backups', write, async (req, reply) => {
    const full = bool(body(req.body ?? {}), 'full');
    return reply.status(201).send(await backups.create(req.params.name, full ? { full } : {}));
  });

  app.post<{ Params: IdParams }>('/v1/vms/:name/backups/:id/verify', write, async (req) => verifyBackup(backups, req.params.name, req.params.id));

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
