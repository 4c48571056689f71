/**
 * The `quotas` key of the daemon config (docs/config.md, docs/security.md):
 * limits per role and per token on the VMs their callers own. Memory is size
 * text ("64Gi") or MiB. A role given here replaces that role's default entry
 * whole (a key left out is unlimited; `operator: {}` lifts every operator
 * limit); roles not given keep their defaults (lifecycle/quotas.ts).
 */
import os from 'node:os';
import { z } from 'zod';
import { defaultQuotas, type QuotaConfig, type QuotaLimits } from '../lifecycle/index.js';
import { parseSize } from '../spec/index.js';

const count = z.number().int().min(0).max(1_000_000);
const memory = z.union([z.string(), z.number().int().min(0)]).transform((v, ctx) => {
  const bytes = typeof v === 'number' ? v * 1024 ** 2 : parseSize(v);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: 'a size like 64Gi or 512Mi (a bare number is MiB)' });
    return z.NEVER;
  }
  return bytes;
});

const limitsSchema = z.object({
  vms: count.optional().describe('VMs owned'),
  vcpus: count.optional().describe('vCPUs of all owned VMs together'),
  memory: memory.optional().describe('guest memory of all owned VMs together'),
  vmVcpus: count.optional().describe('vCPUs of one VM'),
  vmMemory: memory.optional().describe('guest memory of one VM'),
}).strict();

export const quotasSchema = z.object({
  roles: z.object({ admin: limitsSchema, operator: limitsSchema, viewer: limitsSchema, peer: limitsSchema }).partial().strict().optional(),
  tokens: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'a token name'), limitsSchema).optional(),
}).strict();

export type QuotasInput = z.infer<typeof quotasSchema>;

function limitsOf(l: z.infer<typeof limitsSchema>): QuotaLimits {
  return {
    ...(l.vms !== undefined ? { vms: l.vms } : {}),
    ...(l.vcpus !== undefined ? { vcpus: l.vcpus } : {}),
    ...(l.memory !== undefined ? { memoryBytes: l.memory } : {}),
    ...(l.vmVcpus !== undefined ? { vmVcpus: l.vmVcpus } : {}),
    ...(l.vmMemory !== undefined ? { vmMemoryBytes: l.vmMemory } : {}),
  };
}

/** The quotas in force: the defaults for this host's size, with the configured roles and tokens over them. */
export function resolveQuotas(input: QuotasInput | undefined, host = { cpus: os.availableParallelism(), memoryBytes: os.totalmem() }): QuotaConfig {
  const q = defaultQuotas(host);
  for (const [role, l] of Object.entries(input?.roles ?? {})) if (l) q.roles[role as keyof QuotaConfig['roles']] = limitsOf(l);
  for (const [token, l] of Object.entries(input?.tokens ?? {})) q.tokens[token] = limitsOf(l);
  return q;
}
