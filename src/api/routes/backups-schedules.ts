/** /v1/backup-schedules: backup schedules run by the daemon (create, list, show, change, remove). */
import type { FastifyInstance } from 'fastify';
import type { BackupScheduler, RetentionPolicy, ScheduleInput } from '../../backup/index.js';
import { fail } from '../../shared/index.js';
import { bool, body, optString, str } from './body.js';
import { z } from 'zod';
import type { ResponseDoc } from '../auth/principal.js';
import { scheduleSchema } from '../schemas/index.js';

interface NameParams { name: string }
const tags = ['backups'];
const write = (summary: string, response: ResponseDoc) => ({ config: { permission: 'backup:schedule' as const, doc: { summary, tags, response } } });
const read = (summary: string, response: ResponseDoc) => ({ config: { permission: 'vm:read' as const, doc: { summary, tags, response } } });
const KEEP = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly'] as const;

function scheduleBody(raw: unknown, withName: boolean): ScheduleInput {
  const b = body(raw ?? {});
  const vm = optString(b, 'vm');
  const sel = b['selector'];
  if (sel !== undefined && (typeof sel !== 'object' || sel === null || Array.isArray(sel) || Object.values(sel).some((v) => typeof v !== 'string'))) {
    fail('INVALID_BODY', 'selector is an object of label → value strings');
  }
  const ret = b['retention'];
  if (ret !== undefined && (typeof ret !== 'object' || ret === null || Array.isArray(ret))) fail('INVALID_BODY', 'retention is an object with keepLast, keepDaily, …');
  const retention: RetentionPolicy = {};
  for (const [k, v] of Object.entries((ret ?? {}) as Record<string, unknown>)) {
    if (!(KEEP as readonly string[]).includes(k)) fail('INVALID_BODY', `retention.${k} is not one of ${KEEP.join(', ')}`);
    if (typeof v !== 'number') fail('INVALID_BODY', `retention.${k} must be a number`);
    retention[k as (typeof KEEP)[number]] = v;
  }
  const enabled = bool(b, 'enabled');
  const full = bool(b, 'full');
  return {
    name: withName ? str(b, 'name') : '', when: str(b, 'when'), ...(vm !== undefined ? { vm } : {}), ...(sel !== undefined ? { selector: sel as Record<string, string> } : {}),
    ...(ret !== undefined ? { retention } : {}), ...(enabled !== undefined ? { enabled } : {}), ...(full ? { full } : {}),
  };
}

export function backupScheduleRoutes(app: FastifyInstance, schedules: BackupScheduler): void {
  app.get('/v1/backup-schedules', read('List backup schedules', { status: 200, description: 'the schedules', schema: z.array(scheduleSchema) }), async () => schedules.list());
  app.get<{ Params: NameParams }>('/v1/backup-schedules/:name', read('One backup schedule', { status: 200, description: 'the schedule', schema: scheduleSchema }), async (req) => schedules.get(req.params.name));
  /** {name, vm? | selector?, when, retention?, full?, enabled?} */
  app.post('/v1/backup-schedules', write('Create a schedule {name, vm? | selector?, when, retention?, full?, enabled?}', { status: 201, description: 'the schedule', schema: scheduleSchema }), async (req, reply) => reply.status(201).send(await schedules.create(scheduleBody(req.body, true))));
  /** {vm? | selector?, when, retention?, full?, enabled?}: replaces the schedule (its run history stays). */
  app.put<{ Params: NameParams }>('/v1/backup-schedules/:name', write('Replace a schedule (its run history stays)', { status: 200, description: 'the schedule', schema: scheduleSchema }), async (req) => {
    const { name: _n, ...rest } = scheduleBody(req.body, false);
    return schedules.update(req.params.name, rest);
  });
  app.delete<{ Params: NameParams }>('/v1/backup-schedules/:name', write('Remove a schedule', { status: 204, description: 'removed' }), async (req, reply) => {
    await schedules.remove(req.params.name);
    return reply.status(204).send();
  });
}
