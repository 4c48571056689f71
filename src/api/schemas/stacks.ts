/** Answers of /v1/stacks (issue 21). */
import { z } from 'zod';
import {
  STACK_ACTIONS, STACK_MEMBER_KINDS, type StackApplyView, type StackChangeView, type StackDriftView, type StackGraphView, type StackPlanView, type StackStatusView, type StackSummaryView,
} from '../../spec/index.js';
import { describes } from './describes.js';

const field = z.object({ field: z.string().describe('dotted path in the object\'s spec'), from: z.string().nullable(), to: z.string().nullable() });
export const stackChangeSchema = describes<StackChangeView>()(z.object({
  kind: z.enum(STACK_MEMBER_KINDS), member: z.string(), name: z.string(), action: z.enum(STACK_ACTIONS),
  fields: z.array(field).describe('the fields that cause the action'), reason: z.string(),
}).meta({ id: 'StackChange', description: 'what a plan does to one object of a stack' }));
const order = z.array(z.array(z.string())).describe('levels in apply order: each member depends only on earlier levels');
export const stackPlanSchema = describes<StackPlanView>()(z.object({
  stack: z.string(), changes: z.array(stackChangeSchema),
  summary: z.object(Object.fromEntries(STACK_ACTIONS.map((a) => [a, z.number().int()])) as Record<(typeof STACK_ACTIONS)[number], z.ZodNumber>),
  order,
}).meta({ id: 'StackPlan', description: 'the plan of a stack: its file against what exists' }));
const step = z.object({
  kind: z.enum(STACK_MEMBER_KINDS), member: z.string(), name: z.string(), action: z.enum(STACK_ACTIONS),
  result: z.enum(['pending', 'running', 'done', 'failed', 'skipped']),
  error: z.object({ code: z.string(), message: z.string() }).nullable(), ms: z.number().int(),
});
export const stackApplySchema = describes<StackApplyView>()(z.object({
  stack: z.string(), steps: z.array(step), done: z.number().int(), failed: z.number().int(), skipped: z.number().int(),
}).meta({ id: 'StackApply', description: 'what an apply, down or destroy did, step by step (the operation\'s result and detail)' }));
export const stackStatusSchema = describes<StackStatusView>()(z.object({
  stack: z.string(), appliedAt: z.string(),
  members: z.array(z.object({
    kind: z.enum(STACK_MEMBER_KINDS), member: z.string(), name: z.string(),
    state: z.string().describe('a VM\'s state; present or missing'), address: z.string().nullable(), readiness: z.string().describe('ready, not ready: WHY, or n/a'),
  })),
  order: order.describe('the dependency order of the last applied file'),
  edges: z.array(z.object({ from: z.string(), to: z.string() })).describe('from a member to a member it depends on'),
}).meta({ id: 'StackStatus', description: 'every member of a stack with its state, address and readiness' }));
export const stackSummarySchema = describes<StackSummaryView>()(z.object({
  stack: z.string(), appliedAt: z.string(), vms: z.number().int(), networks: z.number().int(), volumes: z.number().int(),
}).meta({ id: 'StackSummary', description: 'a stack and how many objects it owns' }));
export const stackDriftSchema = describes<StackDriftView>()(z.object({ stack: z.string(), drift: z.array(stackChangeSchema) })
  .meta({ id: 'StackDrift', description: 'what changed out of band since the last apply' }));
export const stackGraphSchema = describes<StackGraphView>()(z.object({
  stack: z.string(), order, edges: z.array(z.object({ from: z.string(), to: z.string() })).describe('from depends on to'), text: z.string(), dot: z.string().describe('Graphviz DOT'),
}).meta({ id: 'StackGraph', description: 'the dependency order of a stack' }));
