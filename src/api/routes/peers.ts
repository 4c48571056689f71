/**
 * /v1/peers: the daemons this one may move VMs to (audit defect 7). Admins
 * register and remove them (`peer:admin`); whoever may migrate sees their
 * names and URLs (never tokens) and moves VMs to them by name.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { PeerRegistry } from '../../migration/index.js';
import type { PeerView } from '../../spec/index.js';
import { bodyOf } from '../validate.js';
import { peerSchema } from '../schemas/index.js';

const addBody = z.object({
  name: z.string().describe('1-63 letters, digits, "-", "_", "."'),
  url: z.string().describe('the target daemon: http(s)://HOST:PORT'),
  token: z.string().describe('a token of the target daemon\'s peer role (kept encrypted in the secrets store, never returned)'),
  tlsFingerprint: z.string().optional().describe('https: the SHA-256 fingerprint of the target\'s certificate, pinned'),
}).strict();
const tags = ['migration'];

export function peerRoutes(app: FastifyInstance, peers: PeerRegistry): void {
  app.get('/v1/peers', {
    config: { permission: 'vm:migrate', doc: { summary: 'The daemons VMs may be moved to: names, URLs and fingerprints, never tokens', tags, response: { status: 200, description: 'the peers', schema: z.array(peerSchema) } } },
  }, async (): Promise<PeerView[]> => peers.list());

  app.post('/v1/peers', {
    config: { permission: 'peer:admin', doc: { summary: 'Register (or replace) a peer daemon to move VMs to', tags, body: addBody, response: { status: 201, description: 'the peer, without its token', schema: peerSchema } } },
  }, async (req, reply) => {
    const b = bodyOf<z.infer<typeof addBody>>(req);
    return reply.status(201).send(await peers.add(b.name, { url: b.url, token: b.token, ...(b.tlsFingerprint ? { tlsFingerprint: b.tlsFingerprint } : {}) }));
  });

  app.delete<{ Params: { name: string } }>('/v1/peers/:name', {
    config: { permission: 'peer:admin', doc: { summary: 'Forget a peer: VMs can no longer be moved to it by name', tags, response: { status: 204, description: 'removed' } } },
  }, async (req, reply) => {
    await peers.remove(req.params.name);
    return reply.status(204).send();
  });
}
