/** Answers of the snapshot routes. */
import { z } from 'zod';
import type { RevertResult, SnapshotList, SnapshotView } from '../../lifecycle/index.js';
import { describes } from './describes.js';

export const snapshotSchema = describes<SnapshotView>()(z.object({
  name: z.string(),
  description: z.string(),
  parent: z.string().nullable(),
  kind: z.enum(['ram', 'disk']),
  consistency: z.enum(['full-state', 'application-consistent', 'crash-consistent', 'offline'])
    .describe('application-consistent: the guest agent froze 1 or more filesystems and none failed; crash-consistent: a live disk snapshot without that'),
  frozenFilesystems: z.number().int().min(0).optional().describe('live disk snapshots: filesystems the guest agent froze; absent when no freeze was tried (RAM or offline snapshots)'),
  freezeNote: z.string().optional().describe('why a live disk snapshot is only crash-consistent (no agent, an agent error, nothing frozen)'),
  createdAt: z.string(),
  disks: z.array(z.string()),
  vmState: z.string(),
  type: z.enum(['internal', 'external']),
  files: z.record(z.string(), z.string()).optional().describe('external: disk name → the node\'s file'),
  deleting: z.boolean().optional().describe('a delete that did not finish; delete again to finish it'),
  depth: z.number().int(),
  current: z.boolean(),
  vmStateBytes: z.number().int().min(0),
  fileBytes: z.number().int().min(0),
}).meta({ id: 'Snapshot' }));

export const snapshotListSchema = describes<SnapshotList>()(z.object({
  vm: z.string(), current: z.string().nullable(), snapshots: z.array(snapshotSchema),
}).meta({ id: 'SnapshotList' }));

export const revertSchema = describes<RevertResult>()(z.object({
  vm: z.string(), snapshot: z.string(), ram: z.boolean(), restarted: z.boolean(), bitmapsReset: z.array(z.string()), state: z.string(),
}).meta({ id: 'SnapshotRevert' }));
