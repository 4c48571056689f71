/** Answers about VMs and the host: the VM view, clones, health, whoami, resource samples. */
import { z } from 'zod';
import type { VmSample } from '../../lifecycle/index.js';
import type { HostSample } from '../../metrics/index.js';
import { ROLES, VM_STATES, vmSpecSchema, type CloneView, type HealthView, type Role, type VmView, type VmNicView } from '../../spec/index.js';
import { describes } from './describes.js';

/** POST /v1/vms/{name}/nics and PATCH …/nics/{nic}: the NIC after the change. */
export interface NicChangeView { vm: string; nic: VmNicView; live: boolean }

const at = z.string().describe('ISO 8601 time');

/** GET /v1/whoami: the caller's token name, role and the permissions it holds. */
export interface WhoamiView {
  actor: string;
  role: Role;
  via: 'unix' | 'tcp';
  permissions: string[];
}

/** GET /v1/stats: one sample of the host and of every VM. */
export interface StatsView {
  at: string;
  host: HostSample;
  vms: VmSample[];
}

export const vmNicSchema = describes<VmNicView>()(z.object({
  name: z.string(),
  type: z.enum(['user', 'network']),
  network: z.string().nullable().describe('the virtual network; null for user-mode NICs'),
  mac: z.string(),
  model: z.string(),
  linkUp: z.boolean().describe('the link state the guest sees'),
  tap: z.string().nullable().describe('the host tap while attached (the VM runs)'),
  reservedIp: z.string().nullable().describe('the address reserved on its network (nat, isolated)'),
  addresses: z.array(z.object({ address: z.string(), source: z.enum(['lease', 'agent']).describe('dnsmasq\'s lease for the MAC, or the guest agent') })),
}).meta({ id: 'VmNic' }));

export const vmViewSchema = describes<VmView>()(z.object({
  id: z.string(),
  name: z.string(),
  state: z.enum(VM_STATES),
  stateReason: z.string(),
  host: z.string(),
  spec: vmSpecSchema.describe('the VM spec, normalized (memory in bytes, defaults filled in)'),
  runtime: z.object({ pid: z.number().int(), accel: z.enum(['kvm', 'tcg']), startedAt: at, qemuVersion: z.string() }).nullable(),
  actions: z.array(z.string()).describe('actions the current state allows'),
  createdAt: at,
  updatedAt: at,
  files: z.object({ serialLog: z.string(), dir: z.string() }),
  nics: z.array(vmNicSchema).optional().describe('GET /v1/vms/{name}: the NICs with their addresses'),
}).meta({ id: 'Vm' }));

export const nicChangeSchema = describes<NicChangeView>()(z.object({
  vm: z.string(),
  nic: vmNicSchema,
  live: z.boolean().describe('the running VM got the change at once; false: the spec alone changed'),
}).meta({ id: 'NicChange' }));

export const cloneViewSchema = describes<CloneView>()(z.object({
  vm: vmViewSchema,
  copied: z.array(z.string()).describe('disks whose data were copied'),
  shared: z.array(z.string()).describe('read-only images both VMs use'),
  notes: z.array(z.string()),
}).meta({ id: 'Clone' }));

export const healthSchema = describes<HealthView>()(z.object({ ok: z.literal(true), version: z.string(), host: z.string(), pid: z.number().int() }).meta({ id: 'Health' }));

export const whoamiSchema = describes<WhoamiView>()(z.object({
  actor: z.string(), role: z.enum(ROLES), via: z.enum(['unix', 'tcp']), permissions: z.array(z.string()),
}).meta({ id: 'Whoami' }));

const hostSample = describes<HostSample>()(z.object({
  cpuSeconds: z.record(z.string(), z.number()),
  cpus: z.number().int(),
  memTotalBytes: z.number(),
  memAvailableBytes: z.number(),
  swapTotalBytes: z.number(),
  swapFreeBytes: z.number(),
  load: z.tuple([z.number(), z.number(), z.number()]),
  disks: z.array(z.object({ device: z.string(), readBytes: z.number(), writeBytes: z.number(), reads: z.number(), writes: z.number() })),
  nets: z.array(z.object({ iface: z.string(), rxBytes: z.number(), rxPackets: z.number(), txBytes: z.number(), txPackets: z.number() })),
}));

const vmStats = z.object({
  cpuSeconds: z.number().nullable(),
  vcpuSeconds: z.array(z.object({ vcpu: z.number().int(), seconds: z.number() })),
  rssBytes: z.number().nullable(),
  balloonBytes: z.number().nullable(),
  guestMemory: z.object({ totalBytes: z.number(), availableBytes: z.number(), usedBytes: z.number(), reportedAt: z.number() }).nullable(),
  disks: z.array(z.object({
    disk: z.string(), readBytes: z.number(), writeBytes: z.number(), readOps: z.number(), writeOps: z.number(), flushOps: z.number(), readSeconds: z.number(), writeSeconds: z.number(),
  })),
  nics: z.array(z.object({ nic: z.string(), rxBytes: z.number(), txBytes: z.number(), rxPackets: z.number(), txPackets: z.number() })),
  monitorCalls: z.array(z.object({ command: z.string(), seconds: z.number() })),
});

const vmSample = describes<VmSample>()(z.object({
  name: z.string(),
  id: z.string(),
  state: z.enum(VM_STATES),
  vcpus: z.number().int(),
  memoryBytes: z.number(),
  labels: z.record(z.string(), z.string()),
  stats: vmStats.nullable(),
  statsError: z.string().nullable(),
}));

export const statsSchema = describes<StatsView>()(z.object({ at, host: hostSample, vms: z.array(vmSample) }).meta({ id: 'Stats' }));
