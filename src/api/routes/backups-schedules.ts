/** /v1/backup-schedules: backup schedules run by the daemon (create, list, show, change, remove). */
import type { FastifyInstance } from 'fastify';
import type { BackupScheduler, RetentionPolicy, ScheduleInput } from '../../backup/index.js';
import { fail } from '../../shared/index.js';
import { bool, body, optString, str } from './body.js';

interface NameParams { name: string }
const write = { config: { permission: 'backup:schedule' as const } };
const read = { config: { permission: 'vm:read' as const } };
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
  app.get('/v1/backup-schedules', read, async () => schedules.list());
  app.get<{ Params: NameParams }>('/v1/backup-schedules/:name', read, async (req) => schedules.get(req.params.name));
  /** {name, vm? | selector?, when, retention?, full?, enabled?} */
  app.post('/v1/backup-schedules', write, async (req, reply) => reply.status(201).send(await schedules.create(scheduleBody(req.body, true))));
  /** {vm? | selector?, when, retention?, full?, enabled?}: replaces the schedule (its run history stays). */
  app.put<{ Params: NameParams }>('/v1/backup-schedules/:name', write, async (req) => {
    const { name: _n, ...rest } = scheduleBody(req.body, false);
    return schedules.update(req.params.name, rest);
  });
  app.delete<{ Params: NameParams }>('/v1/backup-schedules/:name', write, async (req, reply) => {
    await schedules.remove(req.params.name);
    return reply.status(204).send();
  });
}
