import type { FastifyInstance } from 'fastify';
import { specJsonSchema, type HealthView } from '../../spec/index.js';
import { healthSchema, jsonDocument } from '../schemas/index.js';

export function systemRoutes(app: FastifyInstance, info: { version: string; host: string }): void {
  app.get('/v1/health', { config: { permission: 'public', doc: { summary: 'Liveness, version and host; needs no token', tags: ['system'], response: { status: 200, description: 'alive', schema: healthSchema } } } },
    async (): Promise<HealthView> => ({ ok: true, version: info.version, host: info.host, pid: process.pid }));
  app.get('/v1/spec/schema', { config: { permission: 'system:read', doc: { summary: 'JSON Schema of the VM spec', tags: ['system'], response: { status: 200, description: 'a JSON Schema (draft 2020-12) of what a spec may hold', schema: jsonDocument } } } }, async () => specJsonSchema());
}
