/**
 * Role quotas (audit defect 10): how many VMs, vCPUs and bytes of guest memory
 * the VMs a role's tokens own may add up to, with a per-token override and a
 * per-VM ceiling. A VM is owned by the caller that created it (create, clone,
 * import; VmRecord.owner); VMs without an owner (made before owners were
 * recorded, or by the daemon itself) count for nobody. Pure: the caller, the
 * limits and the VMs are given.
 */
import { fail, type Caller, type Role } from '../shared/index.js';
import { formatSize, type VmSpec } from '../spec/index.js';
import type { VmRecord } from '../store/index.js';

/** Limits of one role or token; an absent key is unlimited. */
export interface QuotaLimits {
  /** VMs owned. */
  vms?: number;
  /** vCPUs of all owned VMs together (each VM counts its cpu.max when set: what it may grow to). */
  vcpus?: number;
  /** Guest memory of all owned VMs together, bytes (memory.max when set). */
  memoryBytes?: number;
  /** vCPUs of any one VM. */
  vmVcpus?: number;
  /** Guest memory of any one VM, bytes. */
  vmMemoryBytes?: number;
}

export interface QuotaConfig {
  /** Per role: every token of the role together. A role without an entry is unlimited. */
  roles: Partial<Record<Role, QuotaLimits>>;
  /** Per token name: that token's own VMs (checked besides its role's). */
  tokens: Record<string, QuotaLimits>;
}

export interface Footprint {
  vcpus: number;
  memoryBytes: number;
}

/** What one VM holds against a quota: its vCPU and memory ceilings (hotplug may grow it to them). */
export function footprintOf(spec: VmSpec): Footprint {
  return { vcpus: spec.cpu.max ?? spec.cpu.count, memoryBytes: spec.memoryLayout?.max?.size ?? spec.memory };
}

/** The default limits (docs/config.md): operators bounded by the host's size, admins, viewers and peers without an entry. */
export function defaultQuotas(host: { cpus: number; memoryBytes: number }): QuotaConfig {
  return {
    roles: {
      operator: { vms: 64, vcpus: 4 * host.cpus, memoryBytes: 2 * host.memoryBytes, vmVcpus: host.cpus, vmMemoryBytes: host.memoryBytes },
    },
    tokens: {},
  };
}

type Resource = 'vms' | 'vcpus' | 'memoryBytes';

const show = (r: Resource | 'vmVcpus' | 'vmMemoryBytes', n: number): string =>
  (r === 'memoryBytes' || r === 'vmMemoryBytes' ? formatSize(n) : r === 'vms' ? `${n} VM${n === 1 ? '' : 's'}` : `${n} vCPU${n === 1 ? '' : 's'}`);

/**
 * Throws QUOTA_EXCEEDED when `spec` (a new VM, or `replacing`'s new spec)
 * takes the caller's role or token past a limit. An edit is refused only for
 * what it grows, so a VM already past a lowered limit can still shrink or
 * change otherwise; a grown VM another role owns is counted as the caller's.
 */
export function checkQuota(i: { caller: Caller | undefined; quotas: QuotaConfig; vms: readonly VmRecord[]; spec: VmSpec; replacing?: VmRecord }): void {
  const { caller, spec, replacing } = i;
  if (!caller) return;
  const want = footprintOf(spec);
  const before = replacing ? footprintOf(replacing.spec) : undefined;
  const grows = { vms: !replacing, vcpus: !before || want.vcpus > before.vcpus, memoryBytes: !before || want.memoryBytes > before.memoryBytes };
  if (!grows.vcpus && !grows.memoryBytes && !grows.vms) return;
  const scopes: Array<{ what: string; limits: QuotaLimits | undefined; owns: (r: VmRecord) => boolean }> = [
    { what: `token ${caller.actor}`, limits: i.quotas.tokens[caller.actor], owns: (r) => r.owner?.actor === caller.actor },
    { what: `the ${caller.role} role`, limits: i.quotas.roles[caller.role], owns: (r) => r.owner?.role === caller.role },
  ];
  for (const s of scopes) {
    const l = s.limits;
    if (!l) continue;
    const perVm: Array<['vmVcpus' | 'vmMemoryBytes', number, boolean]> = [['vmVcpus', want.vcpus, grows.vcpus], ['vmMemoryBytes', want.memoryBytes, grows.memoryBytes]];
    for (const [key, asked, grown] of perVm) {
      const max = l[key];
      if (max === undefined || !grown || asked <= max) continue;
      fail('QUOTA_EXCEEDED', `VM ${spec.name} asks ${show(key, asked)}, more than one VM of ${s.what} may have (${show(key, max)})`, {
        details: { scope: s.what, limit: key, max, used: 0, requested: asked },
      });
    }
    const others = i.vms.filter((r) => s.owns(r) && r.name !== spec.name);
    const used: Record<Resource, number> = {
      vms: others.length,
      vcpus: others.reduce((a, r) => a + footprintOf(r.spec).vcpus, 0),
      memoryBytes: others.reduce((a, r) => a + footprintOf(r.spec).memoryBytes, 0),
    };
    const asked: Record<Resource, number> = { vms: 1, vcpus: want.vcpus, memoryBytes: want.memoryBytes };
    for (const r of ['vms', 'vcpus', 'memoryBytes'] as const) {
      const max = l[r];
      if (max === undefined || !grows[r] || used[r] + asked[r] <= max) continue;
      fail('QUOTA_EXCEEDED', `${s.what} may own ${show(r, max)}${r === 'memoryBytes' ? ' of guest memory' : ''} in all; its other VMs use ${show(r, used[r])} and VM ${spec.name} asks ${show(r, asked[r])} (${show(r, used[r] + asked[r])} together)`, {
        details: { scope: s.what, limit: r, max, used: used[r], requested: asked[r] },
      });
    }
  }
}
