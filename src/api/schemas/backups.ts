/** Answers of the backup and backup-schedule routes. */
import { z } from 'zod';
import type { BackupRecord, PruneResult, RestoreResult, RetentionPolicy, ScheduleView, VerifyResult } from '../../backup/index.js';
import { vmSpecSchema } from '../../spec/index.js';
import { describes } from './describes.js';

export const backupSchema = describes<BackupRecord>()(z.object({
  version: z.literal(1),
  id: z.string(),
  vm: z.string(),
  vmId: z.string(),
  kind: z.enum(['full', 'incremental']),
  parent: z.string().nullable().describe('the backup an incremental builds on'),
  mode: z.enum(['live', 'offline']),
  fullReason: z.string().optional().describe('why a full backup was taken when an incremental was possible in principle'),
  bitmap: z.string().optional(),
  createdAt: z.string(),
  durationMs: z.number(),
  disks: z.array(z.object({ disk: z.string(), file: z.string(), sizeBytes: z.number(), virtualSize: z.number(), sha256: z.string() })),
  spec: vmSpecSchema.describe('the VM spec when the backup was taken'),
}).meta({ id: 'Backup' }));

export const verifySchema = describes<VerifyResult>()(z.object({
  vm: z.string(),
  id: z.string(),
  ok: z.boolean(),
  checked: z.array(z.object({ id: z.string(), disk: z.string(), sha256: z.boolean(), clean: z.boolean() })),
  problems: z.array(z.string()),
  boot: z.object({ booted: z.boolean(), ms: z.number(), scratchVm: z.string(), reason: z.string().optional() }).optional(),
}).meta({ id: 'BackupVerify' }));

export const restoreSchema = describes<RestoreResult>()(z.object({ vm: z.string(), id: z.string(), disks: z.array(z.string()), createdVm: z.boolean() }).meta({ id: 'BackupRestore' }));

export const pruneSchema = describes<PruneResult>()(z.object({
  vm: z.string(), kept: z.array(z.object({ id: z.string(), why: z.array(z.string()) })), removed: z.array(z.string()), dryRun: z.boolean(),
}).meta({ id: 'BackupPrune' }));

const keep = z.number().int().min(0).optional();
const retention = describes<RetentionPolicy>()(z.object({ keepLast: keep, keepHourly: keep, keepDaily: keep, keepWeekly: keep, keepMonthly: keep, keepYearly: keep }));

export const scheduleSchema = describes<ScheduleView>()(z.object({
  name: z.string(),
  vm: z.string().optional(),
  selector: z.record(z.string(), z.string()).optional(),
  when: z.string(),
  retention: retention.optional(),
  full: z.boolean().optional(),
  enabled: z.boolean(),
  createdAt: z.string(),
  lastRunAt: z.string().nullable(),
  lastResult: z.object({
    at: z.string(),
    backedUp: z.array(z.object({ vm: z.string(), id: z.string(), kind: z.string() })),
    pruned: z.array(z.string()),
    failed: z.array(z.object({ vm: z.string(), error: z.string() })),
  }).nullable(),
  nextRunAt: z.string().nullable(),
}).meta({ id: 'BackupSchedule' }));
