/**
 * The stack file (issue 21): one versioned document naming the VMs, networks
 * and volumes of an environment, their order (depends_on) and readiness.
 * Validated by zod after variables were substituted (variables.ts). Pure.
 */
import { z } from 'zod';
import { NAME_PATTERN, NAME_RULE } from '../shared/index.js';
import { NETWORK_MODES, networkName } from '../spec/index.js';

export const STACK_VERSION = 1 as const;

const memberName = z.string().regex(NAME_PATTERN, NAME_RULE).refine((s) => !s.includes('..') && !s.endsWith('.'), NAME_RULE);
const labelKey = z.string().regex(/^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$/, 'label keys: lowercase letters, digits, . _ / - (max 63)');
const labelValue = z.string().regex(/^[A-Za-z0-9._-]{0,63}$/, 'label values: letters, digits, . _ - (max 63)');

/** A readiness condition: the guest agent answers, a TCP port opens, or a command in the guest succeeds. */
export const readinessSchema = z
  .object({
    agent: z.literal(true).optional().describe('the guest agent answers a ping'),
    tcp: z.number().int().min(1).max(65535).optional()
      .describe('this guest port accepts a TCP connection (through its host port forward, else on its network address)'),
    exec: z.array(z.string().min(1).max(4096)).min(1).max(64).optional().describe('this argv run in the guest by its agent exits 0'),
    timeout: z.number().int().min(1).max(3600).default(120).describe('seconds to wait before the member counts as failed'),
    interval: z.number().int().min(1).max(60).default(2).describe('seconds between tries'),
  })
  .strict()
  .superRefine((r, ctx) => {
    const n = [r.agent, r.tcp, r.exec].filter((x) => x !== undefined).length;
    if (n !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of agent: true, tcp: PORT or exec: [argv]' });
  });

export const stackVmSchema = z
  .object({
    spec: z.record(z.string(), z.unknown()).optional().describe('the VM spec (docs/spec.md); its name comes from the member'),
    from: z.string().min(1).max(4096).optional().describe('a VM spec file, relative to the stack file (the CLI reads it)'),
    count: z.number().int().min(1).max(1000).optional().describe('how many identical VMs; they are named by `name` with {n} = 1..count'),
    name: z.string().min(1).max(63).optional().describe('the VM name, or with count a pattern like web-{n} (default: the member, or MEMBER-{n})'),
    depends_on: z.array(memberName).max(64).default([]).describe('members made (and ready) before this one'),
    ready: readinessSchema.optional().describe('when this VM counts as ready (default: once it runs)'),
  })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.spec === undefined) === (v.from === undefined)) ctx.addIssue({ code: 'custom', path: ['spec'], message: 'give exactly one of spec (inline) or from (a spec file)' });
    if (v.count !== undefined && v.name !== undefined && !v.name.includes('{n}')) ctx.addIssue({ code: 'custom', path: ['name'], message: 'with count, the name needs {n} (like web-{n})' });
    if (v.count === undefined && v.name?.includes('{n}')) ctx.addIssue({ code: 'custom', path: ['name'], message: '{n} needs count' });
  });

export const stackNetworkSchema = z
  .object({
    mode: z.enum(NETWORK_MODES),
    subnet: z.string().optional(),
    dhcpRange: z.object({ start: z.string(), end: z.string() }).strict().optional(),
    dnsDomain: z.string().optional(),
    uplink: z.string().optional(),
    vlan: z.number().int().min(1).max(4094).optional(),
    depends_on: z.array(memberName).max(64).default([]),
  })
  .strict();

export const stackVolumeSchema = z
  .object({
    pool: memberName.default('default'),
    size: z.union([z.string(), z.number().int().positive()]).describe('"10Gi", "512Mi", or bytes'),
    format: z.enum(['qcow2', 'raw']).default('qcow2'),
    depends_on: z.array(memberName).max(64).default([]),
  })
  .strict();

const variableSchema = z.union([
  z.string(), z.number(), z.boolean(),
  z.object({
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
    description: z.string().max(1024).optional(),
  }).strict(),
]);

export const stackFileSchema = z
  .object({
    version: z.literal(STACK_VERSION).default(STACK_VERSION).describe('stack file version'),
    name: memberName.describe('the stack: every object it makes carries the label polyvisor.stack=NAME'),
    description: z.string().max(1024).default(''),
    labels: z.record(labelKey, labelValue).default({}).describe('labels put on every VM of the stack'),
    variables: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'variable names: letters, digits and _'), variableSchema).default({})
      .describe('name: default, or name: {default, description}; used as ${var.name}'),
    vms: z.record(memberName, stackVmSchema).default({}),
    networks: z.record(networkName, stackNetworkSchema).default({}),
    volumes: z.record(memberName, stackVolumeSchema).default({}),
    concurrency: z.number().int().min(1).max(64).default(4).describe('members applied at once'),
  })
  .strict();

export type StackFileInput = z.input<typeof stackFileSchema>;
export type StackFile = z.output<typeof stackFileSchema>;
export type StackVmMember = StackFile['vms'][string];
export type Readiness = z.output<typeof readinessSchema>;

/** JSON Schema (draft 2020-12) of the stack file, for `polyvisor stack schema` and editors. */
export function stackJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(stackFileSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://polyvisor.dev/schema/stack-v1.json', title: 'Polyvisor stack file v1' };
}
