/**
 * Live migration routes (thin, DESIGN rule 1). POST …/migrate answers when
 * the move has finished (or failed) with the result and the policy's
 * explanation, or at once with an operation (`?async=1`) whose progress and
 * detail follow the move and whose cancel rolls it back; progress is also at
 * GET …/migration.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { MigrationProgress, MirrorProgress } from '../../drivers/index.js';
import type { OperationContext, OperationRegistry } from '../../lifecycle/index.js';
import { fail, validateName } from '../../shared/index.js';
import { parseMigrateOptions, type MigrationService, type PeerRegistry } from '../../migration/index.js';
import { resolveMigrationTarget, type ClusterMoveTargets } from '../migration-target.js';
import { migrationResultSchema, migrationStatusSchema, operationSchema } from '../schemas/index.js';

interface NameParams { name: string }
const tags = ['migration'];

function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) fail('INVALID_BODY', 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

function asyncWanted(q: unknown): boolean {
  const v = (q as Record<string, unknown> | undefined)?.['async'];
  if (v === undefined) return false;
  if (!['1', 'true', '0', 'false'].includes(String(v))) fail('INVALID_ARGUMENT', 'async must be 1/true or 0/false');
  return v === '1' || v === 'true';
}

const actor = (req: FastifyRequest): string => req.principal?.actor ?? 'anonymous';

/** Fraction done and the detail an operation shows while a move runs (at most twice a second). */
export function operationProgress(ctx: OperationContext, status: () => { phase: string; disks: MirrorProgress | null } | undefined) {
  let last = 0;
  return (p: MigrationProgress): void => {
    const now = Date.now();
    if (now - last < 500) return;
    last = now;
    const s = status();
    const disks = s?.disks;
    const done = (disks?.doneBytes ?? 0) + p.transferredBytes;
    const total = (disks?.totalBytes ?? 0) + p.transferredBytes + p.remainingBytes;
    if (total > 0) ctx.progress(done / total);
    ctx.detail?.({
      phase: s?.phase ?? 'transferring', status: p.status, transferredBytes: p.transferredBytes, remainingBytes: p.remainingBytes,
      dirtyPagesRate: p.dirtyPagesRate, expectedDowntimeMs: p.expectedDowntimeMs ?? null, iteration: p.iteration, mbps: p.mbps,
      cpuThrottlePercent: p.cpuThrottlePercent, disks: disks ?? null,
    });
  };
}

export function migrationRoutes(app: FastifyInstance, migrations: MigrationService, ops?: OperationRegistry, peers?: PeerRegistry, hosts?: ClusterMoveTargets): void {
  app.post<{ Params: NameParams }>('/v1/vms/:name/migrate', {
    config: {
      permission: 'vm:migrate',
      doc: {
        summary: 'Move a running VM to a new QEMU process, or with target to another daemon; answers when the move has finished', tags,
        query: z.object({ async: z.enum(['1', 'true', '0', 'false']).optional().describe('1/true: answer 202 with an operation at once') }),
        response: { status: 200, description: 'the result and the policy\'s explanation', schema: migrationResultSchema },
        otherResponses: [{ status: 202, description: 'async=1: the operation, at once; its cancel rolls the move back; its result is the move\'s', schema: operationSchema }],
      },
    },
  }, async (req, reply) => {
    const name = req.params.name;
    validateName(name, 'VM name');
    const opts = await resolveMigrationTarget(parseMigrateOptions(objectBody(req.body)), req.principal?.role, peers, name, hosts);
    if (!asyncWanted(req.query) || !ops) return migrations.migrate(name, opts);
    await migrations.vmExists(name); // 404 now rather than a failed operation later
    const work = (ctx: OperationContext) => migrations.migrate(name, opts, operationProgress(ctx, () => migrations.status(name)), ctx.signal);
    const op = ops.start('vm.migrate', name, actor(req), work);
    return reply.status(202).header('location', `/v1/operations/${op.id}`).send(op);
  });

  app.get<{ Params: NameParams }>('/v1/vms/:name/migration', {
    config: { permission: 'vm:read', doc: { summary: 'Progress of the VM\'s move in progress (MIGRATION_NOT_RUNNING when none is)', tags, response: { status: 200, description: 'the move as it is', schema: migrationStatusSchema } } },
  }, async (req) => {
    validateName(req.params.name, 'VM name');
    const s = migrations.status(req.params.name);
    if (!s) fail('MIGRATION_NOT_RUNNING', `no migration of VM ${req.params.name} is in progress`);
    return s;
  });

  app.post<{ Params: NameParams }>('/v1/vms/:name/migrate/cancel', {
    config: { permission: 'vm:migrate', doc: { summary: 'Cancel the move in progress: it rolls back, the VM keeps running here', tags, response: { status: 200, description: 'the move, cancelling', schema: migrationStatusSchema } } },
  }, async (req) => {
    validateName(req.params.name, 'VM name');
    return migrations.cancel(req.params.name);
  });

  app.post<{ Params: NameParams }>('/v1/vms/:name/migrate/postcopy', {
    config: { permission: 'vm:migrate', doc: { summary: 'Switch the move in progress to post-copy (it must have been started with postcopy: manual)', tags, response: { status: 200, description: 'the move', schema: migrationStatusSchema } } },
  }, async (req) => {
    validateName(req.params.name, 'VM name');
    return migrations.requestPostcopy(req.params.name);
  });
}
