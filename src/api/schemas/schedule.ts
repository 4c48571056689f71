/** The answer of GET/POST /v1/schedule/explain (issue 19; docs/scheduler.md). */
import { z } from 'zod';
import { HOST_STATES, type ScheduleExplainView } from '../../spec/index.js';
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
