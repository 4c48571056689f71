/** The answer of GET/POST /v1/schedule/explain (issue 19; docs/scheduler.md). */
import { z } from 'zod';
import { HOST_STATES, type RebalanceView, type ScheduleExplainView } from '../../spec/index.js';
import { describes } from './describes.js';

const resources = z.object({ cpus: z.number(), memoryBytes: z.number(), diskBytes: z.number() });
const verdict = z.object({
  filter: z.string(), pass: z.boolean(), reason: z.string().optional().describe('why the filter refused the host, with the host\'s numbers'),
});
const row = z.object({
  host: z.string(),
  state: z.enum(HOST_STATES),
  pool: z.string().describe('host pool (HA group); "" for none'),
  priority: z.number().describe('priority tier inside the pool (higher is preferred)'),
  capacity: resources,
  allocated: resources.describe('what the VMs placed there claim (the VM explained does not count)'),
  passed: z.boolean().describe('every filter passed'),
  refusedBy: z.object({ filter: z.string(), reason: z.string() }).nullable().describe('the first filter that refused the host; null when it passed'),
  verdicts: z.array(verdict).describe('every filter in the order they run (state, cpu, memory, disk, selector, storage, pool, affinity, anti-affinity; tier for hosts that passed)'),
  score: z.object({ capacity: z.number(), affinity: z.number(), total: z.number() }).nullable().describe('weighers: capacity (pack: best fit, or spread; 0..100) and soft (anti-)affinity points; null when refused'),
  chosen: z.boolean(),
});

export const scheduleExplainSchema = describes<ScheduleExplainView>()(z.object({
  vm: z.string(),
  request: z.object({ cpus: z.number(), memoryBytes: z.number(), diskBytes: z.number(), pool: z.string().nullable(), restricted: z.boolean() }).describe('what the VM claims and its host pool (HA group)'),
  policy: z.object({ mode: z.enum(['pack', 'spread']), overcommit: z.object({ cpu: z.number(), memory: z.number(), disk: z.number() }) }),
  chosen: z.string().nullable().describe('the host the scheduler picks; null when none passes'),
  hosts: z.array(row).describe('the chosen host first, then the others that passed by rank, then the refused by name'),
}).meta({ id: 'ScheduleExplanation', description: 'where the scheduler would place a VM and why, host by host' }));

const pair = z.tuple([z.number(), z.number()]);
const move = z.object({
  vm: z.string(), from: z.string(), to: z.string(),
  loads: z.object({ from: pair, to: pair }).describe('the two hosts\' loads before and after this move, as planned'),
  state: z.enum(['pending', 'moving', 'done', 'failed']),
  error: z.string().nullable(),
});

export const rebalanceSchema = describes<RebalanceView>()(z.object({
  state: z.enum(['planned', 'balanced', 'moving', 'done', 'failed']).describe('planned: a dry run; balanced: nothing to move; done/failed: after the moves'),
  dryRun: z.boolean(),
  threshold: z.number(),
  imbalanceBefore: z.number().describe('highest minus lowest load of the ready hosts (a load is the larger of the CPU and memory shares allocated)'),
  imbalanceAfter: z.number().describe('the same after the planned moves'),
  loads: z.array(z.object({ host: z.string(), before: z.number(), after: z.number() })),
  stopped: z.string().describe('why the planner stopped proposing moves'),
  moves: z.array(move),
}).meta({ id: 'Rebalance', description: 'the rebalance plan and, after a run, each live move\'s outcome' }));
