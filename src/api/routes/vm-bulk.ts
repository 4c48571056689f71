/**
 * POST /v1/vms/actions: one action over the VMs a label selector (and/or a
 * list of names) picks, as one operation with per-VM results (docs/api.md).
 * The route needs vm:operate; the action's own permission is then checked
 * for every VM picked, before anything runs.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { runBulk, type BulkTarget, type OperationRegistry } from '../../lifecycle/index.js';
import { fail, PolyvisorError, validateName } from '../../shared/index.js';
import { BULK_ACTIONS, type BulkActionName } from '../../spec/index.js';
import { roleAllows, rolesWith, type Permission } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { BULK_PERMISSION, prepareBulk, type BulkServices } from '../bulk-actions.js';
import { parseLabelSelector } from '../label-selector.js';
import { bulkOperationSchema } from '../schemas/index.js';
import { parseMigrateOptions } from '../../migration/index.js';
import { resolveMigrationTarget } from '../migration-target.js';
import { bodyOf, queryOf } from '../validate.js';

const bulkBody = z.object({
  action: z.enum(BULK_ACTIONS).describe('what to do to each VM picked'),
  selector: z.string().min(1).max(2048).optional().describe('label selector key=value[,key=value]: the VMs that carry every label'),
  names: z.array(z.string()).min(1).max(1000).optional().describe('these VMs (with selector: those of them it matches); each must exist'),
  dryRun: z.boolean().optional().describe('answer what would be done (planned or skipped per VM), do nothing'),
  concurrency: z.number().int().min(1).max(64).optional().describe('VMs acted on at once (default 4)'),
  options: z.record(z.string(), z.unknown()).optional()
    .describe('the action\'s own options: stop {timeoutSeconds, force}; snapshot {name, description, ram, type}; backup {full, bwlimitMiB}; migrate: the body of POST /v1/vms/{name}/migrate'),
}).strict();
const bulkQuery = z.object({
  async: z.enum(['true', 'false']).optional().describe('true: answer 202 with the running operation at once (follow it with /v1/operations/{id}/wait or the event stream)'),
}).strict();

type Body = z.infer<typeof bulkBody>;

/** Whether `p` may act on VM `_vm` with `permission`. Roles are global today, so every VM gets its role's answer. */
function mayActOn(p: Principal, permission: Permission, _vm: string): boolean {
  return roleAllows(p.role, permission);
}

function authorize(req: FastifyRequest, action: BulkActionName, vms: readonly string[]): void {
  const p = req.principal;
  const permission = BULK_PERMISSION[action];
  const why = (who: string) => `role ${p?.role ?? 'none'} (token ${p?.actor ?? 'none'}) may not ${action} ${who}: it needs ${permission}, held by ${rolesWith(permission).join(', ')}`;
  if (!p || !roleAllows(p.role, permission)) fail('FORBIDDEN', why('VMs'));
  const denied = vms.filter((vm) => !mayActOn(p, permission, vm));
  if (denied.length) fail('FORBIDDEN', why(denied.join(', ')));
}

/** The VMs picked, ordered by name; names that do not exist are refused (404) before anything runs. */
async function pick(s: BulkServices, b: Body): Promise<BulkTarget[]> {
  const labels = parseLabelSelector(b.selector);
  if (!labels && !b.names) fail('INVALID_BODY', 'give selector (key=value[,key=value]) or names: a bulk action never picks every VM by default', { details: [{ field: 'selector', message: 'give selector or names' }] });
  const names = b.names ? [...new Set(b.names)] : undefined;
  names?.forEach((n) => validateName(n, 'VM name'));
  const recs = await s.service.list(labels ? { labels } : undefined);
  if (names) {
    const known = new Set((labels ? await s.service.list() : recs).map((r) => r.name));
    const missing = names.filter((n) => !known.has(n));
    if (missing.length) fail('VM_NOT_FOUND', `no VM named ${missing.join(', ')}`);
  }
  const want = names ? new Set(names) : undefined;
  return recs.filter((r) => !want || want.has(r.name)).map((r) => ({ name: r.name, state: r.state })).sort((a, b) => a.name.localeCompare(b.name));
}

export function bulkRoutes(app: FastifyInstance, s: BulkServices, ops: OperationRegistry): void {
  app.post('/v1/vms/actions', {
    config: {
      permission: 'vm:operate',
      doc: {
        summary: `Bulk action (${BULK_ACTIONS.join(', ')}) on the VMs a label selector or a list of names picks, as one operation with per-VM results; also needs the action's own permission (vm:snapshot, vm:backup, vm:migrate)`,
        tags: ['vms'], body: bulkBody, query: bulkQuery,
        response: { status: 200, description: 'the finished operation; detail is the report (per-VM result, before/after state, error); status failed with BULK_FAILED when any VM failed', schema: bulkOperationSchema },
        otherResponses: [{ status: 202, description: 'async=true: the running operation, at once (Location: /v1/operations/ID)', schema: bulkOperationSchema }],
      },
    },
  }, async (req, reply) => {
    const b = bodyOf<Body>(req);
    const q = queryOf<z.infer<typeof bulkQuery>>(req);
    authorize(req, b.action, []);
    // A bulk move goes where a single one may (audit defect 7): registered peers, or any URL for admins.
    const options = b.action === 'migrate' ? { ...await resolveMigrationTarget(parseMigrateOptions(b.options ?? {}), req.principal?.role, s.peers) } : (b.options ?? {});
    const prepared = prepareBulk(s, b.action, options);
    const targets = await pick(s, b);
    authorize(req, b.action, targets.map((t) => t.name));
    const op = ops.start(`bulk.${b.action}`, null, req.principal?.actor ?? 'anonymous', (ctx) => runBulk({
      action: b.action, selector: b.selector ?? null, names: b.names ?? null, targets, concurrency: b.concurrency ?? 4, dryRun: b.dryRun === true, ...prepared,
    }, ctx));
    if (q.async === 'true') return reply.status(202).header('location', `/v1/operations/${op.id}`).send(op);
    const gone = new AbortController();
    const onClose = (): void => gone.abort();
    req.raw.socket.once('close', onClose);
    try {
      const done = await ops.wait(op.id, 24 * 3600_000, gone.signal);
      if (done.status === 'running') throw new PolyvisorError('ABORTED', `the client went away; operation ${op.id} goes on`);
      return done;
    } finally {
      req.raw.socket.off('close', onClose);
    }
  });
}
