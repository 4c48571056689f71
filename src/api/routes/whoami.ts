/** GET /v1/whoami: the caller's token name, role and permissions, so a UI can hide what the role may not do. */
import type { FastifyInstance } from 'fastify';
import { PERMISSIONS, roleAllows } from '../auth/permissions.js';
import { whoamiSchema, type WhoamiView } from '../schemas/index.js';

export function whoamiRoutes(app: FastifyInstance): void {
  app.get('/v1/whoami', {
    config: { permission: 'system:read', doc: { summary: 'The calling token: name, role and the permissions it holds', tags: ['tokens'], response: { status: 200, description: 'the caller', schema: whoamiSchema } } },
  }, async (req): Promise<WhoamiView> => {
    const p = req.principal;
    if (!p) throw new Error('whoami reached without a principal'); // the auth hook runs first: a bug if not
    return { actor: p.actor, role: p.role, via: p.via, permissions: PERMISSIONS.filter((x) => x !== 'public' && roleAllows(p.role, x)) };
  });
}
