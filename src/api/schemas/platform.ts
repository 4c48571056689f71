/** Answers of the API platform: tokens, secrets, operations, events, audit entries. */
import { z } from 'zod';
import { OPERATION_STATUSES, ROLES, type AuditView, type EventView, type OperationView, type PeerView, type SecretRotationView, type SecretView, type TokenCreatedView, type TokenView } from '../../spec/index.js';
import { describes } from './describes.js';

const at = z.string().describe('ISO 8601 time');

const tokenFields = {
  name: z.string(),
  role: z.enum(ROLES),
  prefix: z.string().describe('the first characters of the token, to recognise it'),
  createdAt: at,
  lastUsedAt: at.nullable(),
  expiresAt: at.nullable().describe('after this time the token no longer works; null: never'),
};
export const tokenSchema = describes<TokenView>()(z.object(tokenFields).meta({ id: 'Token' }));
export const tokenCreatedSchema = describes<TokenCreatedView>()(z.object({ ...tokenFields, token: z.string().describe('the secret: shown this once') }).meta({ id: 'TokenCreated' }));

export const secretSchema = describes<SecretView>()(z.object({ name: z.string(), createdAt: at, updatedAt: at }).meta({ id: 'Secret', description: 'a secret: its name and times, never its value' }));
export const peerSchema = describes<PeerView>()(z.object({
  name: z.string(), url: z.string(), tlsFingerprint: z.string().nullable(), createdAt: at, updatedAt: at,
}).meta({ id: 'Peer', description: 'a daemon VMs may be moved to; its token is never returned' }));
export const secretRotationSchema = describes<SecretRotationView>()(z.object({ key: z.string(), secrets: z.number().int() }).meta({ id: 'SecretRotation' }));

const errorOf = z.object({ code: z.string(), message: z.string(), hint: z.string() });

export const operationSchema = describes<OperationView>()(z.object({
  id: z.string(),
  kind: z.string().describe('vm.start, vm.backup, vm.migrate…'),
  vm: z.string().nullable(),
  status: z.enum(OPERATION_STATUSES),
  progress: z.number().min(0).max(1),
  actor: z.string(),
  createdAt: at,
  updatedAt: at,
  finishedAt: at.nullable(),
  error: errorOf.nullable(),
  result: z.unknown().optional().describe('what the work returned, once succeeded (the VM, the backup…)'),
  detail: z.record(z.string(), z.unknown()).optional().describe('live detail beyond the fraction (a move\'s bytes, a backup\'s phase)'),
}).meta({ id: 'Operation' }));

const vmEvent = { seq: z.number().int(), at, vm: z.string(), id: z.string() };
export const eventSchema = describes<EventView>()(z.discriminatedUnion('type', [
  z.object({ ...vmEvent, type: z.literal('vm.state'), from: z.string(), to: z.string(), reason: z.string() }),
  z.object({ ...vmEvent, type: z.literal('vm.removed') }),
  z.object({ ...vmEvent, type: z.literal('vm.snapshots'), action: z.string(), name: z.string().nullable() }),
  z.object({ ...vmEvent, type: z.literal('vm.backups'), action: z.string(), name: z.string().nullable() }),
  z.object({ seq: z.number().int(), at, type: z.literal('operation'), vm: z.string().nullable(), operation: operationSchema }),
]).meta({ id: 'Event' }));

export const auditSchema = describes<AuditView>()(z.object({
  id: z.number().int(),
  at,
  actor: z.string(),
  action: z.string(),
  resource: z.string().nullable(),
  outcome: z.enum(['ok', 'denied', 'failed']),
  status: z.number().int(),
  detail: z.record(z.string(), z.unknown()),
}).meta({ id: 'AuditEntry' }));
