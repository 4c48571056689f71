/**
 * /v1/secrets: the secrets store (admin only). Values go in, never out: the
 * answers carry names and times. The store itself is the daemon's (secrets/);
 * the API sees it through this interface.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { SecretRotationView, SecretView } from '../../spec/index.js';
import { bodyOf } from '../validate.js';
import { secretRotationSchema, secretSchema } from '../schemas/index.js';

export interface SecretsService {
  list(): Promise<SecretView[]>;
  set(name: string, value: string): Promise<SecretView & { created: boolean }>;
  remove(name: string): Promise<void>;
  rotateKey(): Promise<SecretRotationView>;
}

const setBody = z.object({ value: z.string().max(64 * 1024, 'at most 64 KiB').describe('the secret value (never returned)') }).strict();
const tags = ['secrets'];

export function secretRoutes(app: FastifyInstance, secrets: SecretsService): void {
  app.get('/v1/secrets', {
    config: { permission: 'secret:admin', doc: { summary: 'List secrets: names and times, never values', tags, response: { status: 200, description: 'the secrets', schema: z.array(secretSchema) } } },
  }, async (): Promise<SecretView[]> => secrets.list());

  app.put<{ Params: { name: string } }>('/v1/secrets/:name', {
    config: { permission: 'secret:admin', doc: { summary: 'Store a secret (201 when new, 200 when replaced); the value is never returned', tags, body: setBody, response: { status: 200, description: 'replaced: the name and times', schema: secretSchema }, otherResponses: [{ status: 201, description: 'created: the name and times', schema: secretSchema }] } },
  }, async (req, reply) => {
    const b = bodyOf<z.infer<typeof setBody>>(req);
    const r = await secrets.set(req.params.name, b.value);
    const view: SecretView = { name: r.name, createdAt: r.createdAt, updatedAt: r.updatedAt };
    return reply.status(r.created ? 201 : 200).send(view);
  });

  app.delete<{ Params: { name: string } }>('/v1/secrets/:name', {
    config: { permission: 'secret:admin', doc: { summary: 'Remove a secret', tags, response: { status: 204, description: 'removed' } } },
  }, async (req, reply) => {
    await secrets.remove(req.params.name);
    return reply.status(204).send();
  });

  app.post('/v1/secrets/rotate-key', {
    config: { permission: 'secret:admin', doc: { summary: 'Re-encrypt every secret under a new key, all or nothing', tags, response: { status: 200, description: 'the new key id and the count of secrets', schema: secretRotationSchema } } },
  }, async (): Promise<SecretRotationView> => secrets.rotateKey());
}
