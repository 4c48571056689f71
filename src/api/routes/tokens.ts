/** /v1/tokens: API tokens (admin only). The secret is in the creation answer and nowhere else. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ROLES } from '../../spec/index.js';
import type { TokenService } from '../auth/tokens.js';
import { bodyOf } from '../validate.js';
import { tokenCreatedSchema, tokenSchema } from '../schemas/index.js';

const createBody = z.object({
  name: z.string().describe('1-63 letters, digits, "-", "_", "."'),
  role: z.enum(ROLES),
  expiresAt: z.string().optional().describe('ISO 8601 time after which the token no longer works (at most ten years ahead); absent: never'),
}).strict();

export function tokenRoutes(app: FastifyInstance, tokens: TokenService): void {
  app.get('/v1/tokens', { config: { permission: 'token:admin', doc: { summary: 'List API tokens (never their secrets)', tags: ['tokens'], response: { status: 200, description: 'the tokens', schema: z.array(tokenSchema) } } } }, async () => tokens.list());

  app.post('/v1/tokens', {
    config: { permission: 'token:admin', doc: { summary: 'Create a token; the answer is the only time its secret is shown', tags: ['tokens'], body: createBody, response: { status: 201, description: 'the token with its secret', schema: tokenCreatedSchema } } },
  }, async (req, reply) => {
    const b = bodyOf<z.infer<typeof createBody>>(req);
    return reply.status(201).send(await tokens.create(b.name, b.role, b.expiresAt));
  });

  app.delete<{ Params: { name: string } }>('/v1/tokens/:name', {
    config: { permission: 'token:admin', doc: { summary: 'Revoke a token: it stops working at once', tags: ['tokens'], response: { status: 204, description: 'revoked' } } },
  }, async (req, reply) => {
    await tokens.revoke(req.params.name);
    return reply.status(204).send();
  });
}
