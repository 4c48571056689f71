/**
 * Live migration routes (thin, DESIGN rule 1). POST …/migrate answers when
 * the move has finished (or failed) with the result and the policy's
 * explanation; progress meanwhile is at GET …/migration.
 */
import type { FastifyInstance } from 'fastify';
import { fail, validateName } from '../../shared/index.js';
import { parseMigrateOptions, type MigrationService } from '../../migration/index.js';

interface NameParams { name: string }

function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) fail('INVALID_BODY', 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

export function migrationRoutes(app: FastifyInstance, migrations: MigrationService): void {
  app.post<{ Params: NameParams }>('/v1/vms/:name/migrate', { config: { permission: 'vm:migrate' as const } }, async (req) => {
    validateName(req.params.name, 'VM name');
    return migrations.migrate(req.params.name, parseMigrateOptions(objectBody(req.body)));
  });

  app.get<{ Params: NameParams }>('/v1/vms/:name/migration', { config: { permission: 'vm:read' as const } }, async (req) => {
    validateName(req.params.name, 'VM name');
    const s = migrations.status(req.params.name);
    if (!s) fail('MIGRATION_NOT_RUNNING', `no migration of VM ${req.params.name} is in progress`);
    return s;
  });

  app.post<{ Params: NameParams }>('/v1/vms/:name/migrate/cancel', { config: { permission: 'vm:migrate' as const } }, async (req) => {
    validateName(req.params.name, 'VM name');
    return migrations.cancel(req.params.name);
  });

  app.post<{ Params: NameParams }>('/v1/vms/:name/migrate/postcopy', { config: { permission: 'vm:migrate' as const } }, async (req) => {
    validateName(req.params.name, 'VM name');
    return migrations.requestPostcopy(req.params.name);
  });
}
