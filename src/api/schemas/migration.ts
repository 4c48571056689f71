/** Answers of the migration routes, both the source's and the target's (host-to-host handshake). */
import { z } from 'zod';
import type { AbortResult, CommitResult, HostMoveResult, IncomingReady, IncomingStatus, MigrationResult, MigrationStatusView } from '../../migration/index.js';
import { VM_STATES } from '../../spec/index.js';
import { describes } from './describes.js';

const mirrors = z.object({
  disks: z.number().int(),
  mode: z.enum(['background', 'write-blocking']),
  switchedToActive: z.number().int(),
  syncMs: z.number(),
  behindBytes: z.number(),
  convergeMs: z.number(),
});

const resultFields = {
  vm: z.string(),
  state: z.enum(VM_STATES),
  sourcePid: z.number().int(),
  targetPid: z.number().int(),
  wallMs: z.number(),
  stats: z.object({
    totalTimeMs: z.number(), downtimeMs: z.number(), setupTimeMs: z.number(), transferredBytes: z.number(), totalBytes: z.number(),
    iterations: z.number(), postcopy: z.boolean(), cpuThrottlePercent: z.number(), mbps: z.number(), mirrors: mirrors.optional(),
  }),
  policy: z.object({
    downtimeLimitMs: z.number(), finalDowntimeLimitMs: z.number(), maxBandwidthBytesPerS: z.number().nullable(), autoConverge: z.boolean(),
    postcopy: z.string(), multifdChannels: z.number().int(), xbzrle: z.boolean(),
  }),
  explanation: z.string(),
  warnings: z.array(z.string()),
};

const sameHost = describes<MigrationResult>()(z.object(resultFields));
const hostMove = describes<HostMoveResult>()(z.object({
  ...resultFields,
  mode: z.enum(['live', 'offline']),
  target: z.object({ host: z.string(), url: z.string() }),
  handoverMs: z.number().nullable(),
  commitMs: z.number().nullable(),
  copiedDisks: z.array(z.string()),
}));
/** A move on this host, or (with mode, target…) to another daemon. */
export const migrationResultSchema = z.union([hostMove, sameHost]).meta({ id: 'MigrationResult' });

export const migrationStatusSchema = describes<MigrationStatusView>()(z.object({
  vm: z.string(),
  phase: z.enum(['preparing', 'mirroring', 'copying', 'transferring', 'postcopy', 'switching-over']),
  startedAt: z.string(),
  postcopy: z.enum(['off', 'manual', 'after-precopy', 'auto']),
  explanation: z.string(),
  progress: z.object({
    status: z.string(), elapsedMs: z.number(), transferredBytes: z.number(), remainingBytes: z.number(), totalBytes: z.number(), dirtyPagesRate: z.number(),
    pageSize: z.number(), expectedDowntimeMs: z.number().optional(), iteration: z.number(), mbps: z.number(), cpuThrottlePercent: z.number(), postcopy: z.boolean(),
  }).nullable(),
  disks: z.object({ doneBytes: z.number(), totalBytes: z.number(), readyDisks: z.number(), disks: z.number() }).nullable(),
  target: z.string().nullable(),
}).meta({ id: 'MigrationStatus' }));

export const incomingReadySchema = describes<IncomingReady>()(z.object({
  migrationId: z.string(),
  host: z.string(),
  uri: z.string().optional(),
  pid: z.number().int().optional(),
  nbd: z.array(z.object({ disk: z.string(), host: z.string(), port: z.number().int(), exportName: z.string() })),
}).meta({ id: 'IncomingReady' }));

export const incomingStatusSchema = describes<IncomingStatus>()(z.object({
  migrationId: z.string(), vm: z.string(), mode: z.enum(['live', 'offline']), phase: z.enum(['waiting', 'committed', 'aborted']), qemuStatus: z.string().optional(),
}).meta({ id: 'IncomingStatus' }));

export const commitSchema = describes<CommitResult>()(z.object({
  migrationId: z.string(), vm: z.string(), state: z.enum(VM_STATES), pid: z.number().int().nullable(), handoverMs: z.number(),
}).meta({ id: 'IncomingCommit' }));

export const abortSchema = describes<AbortResult>()(z.object({ migrationId: z.string(), outcome: z.enum(['aborted', 'committed']) }).meta({ id: 'IncomingAbort' }));
