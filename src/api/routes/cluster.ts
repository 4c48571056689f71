/**
 * /v1/cluster: membership (issue 19; docs/cluster.md). Everything is admin
 * (`host:admin`) except the member's side of a join, whose credential is the
 * join token in its body (single use, expiring; etcd keeps only its hash).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ClusterService } from '../../cluster/index.js';
import { clusterGrantSchema, clusterLeaveSchema, clusterSetupSchema, clusterStatusSchema, joinTokenSchema } from '../schemas/index.js';
import { bodyOf } from '../validate.js';

const tags = ['cluster'];
const etcdUrl = z.string().regex(/^https?:\/\/[^\s/]+$/, 'an etcd client URL like http://10.0.0.1:2379');
const initBody = z.object({
  endpoints: z.array(etcdUrl).min(1).max(15).describe('etcd client URLs'),
  prefix: z.string().max(200).optional().describe('etcd key prefix of this cluster (default /polyvisor/v1/)'),
}).strict();
const joinBody = z.object({
  address: z.string().max(300).describe('a member\'s API URL, http(s)://HOST:PORT'),
  token: z.string().max(200).describe('a join token made on a member (cluster token create)'),
  fingerprint: z.string().regex(/^[0-9A-Fa-f:]{64,95}$/).optional().describe('https: the SHA-256 fingerprint of the member\'s certificate'),
}).strict();
const tokenBody = z.object({ ttlSeconds: z.number().int().optional().describe('lifetime, 1 s to 7 days (default 3600)') }).strict();
const admitBody = z.object({ token: z.string().max(200), host: z.string().max(63).describe('the joining host\'s name') }).strict();
const leaveBody = z.object({ force: z.boolean().optional().describe('leave although this host still owns VMs') }).strict();

export function clusterRoutes(app: FastifyInstance, cluster: ClusterService): void {
  app.get('/v1/cluster', {
    config: { permission: 'host:admin', doc: { summary: 'Cluster status: members with their lease ages, the leader, the health of each etcd member', tags, response: { status: 200, description: 'the status (clustered false on a single host)', schema: clusterStatusSchema } } },
  }, async () => cluster.status());

  app.post('/v1/cluster/init', {
    config: { permission: 'host:admin', doc: { summary: 'Make this host the first member of a cluster on etcd: copies its VMs and tokens there and writes the cluster store for the daemon\'s next start', tags, body: initBody, response: { status: 200, description: 'what was written; restart the daemon', schema: clusterSetupSchema } } },
  }, async (req) => {
    const b = bodyOf<z.infer<typeof initBody>>(req);
    return cluster.init({ endpoints: b.endpoints, ...(b.prefix !== undefined ? { prefix: b.prefix } : {}) });
  });

  app.post('/v1/cluster/join', {
    config: { permission: 'host:admin', doc: { summary: 'Join this (empty) host to the cluster of the member at address, with a join token made there', tags, body: joinBody, response: { status: 200, description: 'what was written; restart the daemon', schema: clusterSetupSchema } } },
  }, async (req) => {
    const b = bodyOf<z.infer<typeof joinBody>>(req);
    return cluster.join({ address: b.address, token: b.token, ...(b.fingerprint ? { fingerprint: b.fingerprint } : {}) });
  });

  app.post('/v1/cluster/tokens', {
    config: { permission: 'host:admin', doc: { summary: 'A join token: admits one host, expires (default after 1 h)', tags, body: tokenBody, response: { status: 201, description: 'the token, shown once', schema: joinTokenSchema } } },
  }, async (req, reply) => reply.status(201).send(await cluster.createToken(bodyOf<z.infer<typeof tokenBody>>(req).ttlSeconds)));

  app.post('/v1/cluster/members', {
    config: { permission: 'public', doc: { summary: 'A member\'s side of a join: the join token in the body is checked and spent; the joiner gets the etcd endpoints and the peer credential', tags, body: admitBody, response: { status: 200, description: 'what the joiner needs', schema: clusterGrantSchema } } },
  }, async (req) => {
    const b = bodyOf<z.infer<typeof admitBody>>(req);
    return cluster.admit({ token: b.token, host: b.host });
  });

  app.post('/v1/cluster/leave', {
    config: { permission: 'host:admin', doc: { summary: 'This host leaves the cluster: refuses while it owns VMs unless force; disarms its watchdog, revokes its lease', tags, body: leaveBody, response: { status: 200, description: 'left; restart the daemon to run as a single host', schema: clusterLeaveSchema } } },
  }, async (req) => cluster.leave(bodyOf<z.infer<typeof leaveBody>>(req).force === true));
}
