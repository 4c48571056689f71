/** Answers of /v1/hosts and /v1/cluster (issue 19). */
import { z } from 'zod';
import {
  DRAIN_STATES, DRAIN_VM_ACTIONS, DRAIN_VM_STATES, HOST_STATES,
  type ClusterJoinGrantView, type ClusterLeaveView, type ClusterSetupView, type ClusterStatusView, type DrainView, type EtcdMemberView, type HostView, type JoinTokenCreatedView,
} from '../../spec/index.js';
import { describes } from './describes.js';

const resources = z.object({ cpus: z.number().int(), memoryBytes: z.number().int(), diskBytes: z.number().int() });
export const hostSchema = describes<HostView>()(z.object({
  name: z.string(),
  state: z.enum(HOST_STATES).describe('ready; cordoned (no new VMs, HA skips it); draining; drained (cordoned, its VMs moved off); down (its lease expired)'),
  capacity: resources,
  allocated: resources.describe('what the VMs that run (or are meant to run) there claim'),
  vms: z.number().int().describe('VMs owned by the host, in any state'),
  pool: z.string().describe('host pool (HA group); "" for none'),
  version: z.string(),
  since: z.string().describe('ISO 8601 time it joined (with its current lease, or last, when down)'),
  leaseAgeSeconds: z.number().int().nullable().describe('seconds since it joined with its current lease; null when down or on a single host'),
  self: z.boolean().describe('the host that answered'),
  topology: z.object({
    nodes: z.array(z.object({ id: z.number().int(), cpus: z.number().int(), memoryBytes: z.number().int(), hugepages: z.object({ '2M': z.number().int().optional(), '1G': z.number().int().optional() }).optional().describe('free hugepages by size') })),
    gpus: z.array(z.object({ address: z.string(), model: z.string().describe('vendor:device'), free: z.boolean().describe('on vfio-pci, its IOMMU group clear, held by no VM'), mdev: z.record(z.string(), z.number().int()).optional().describe('free instances by mdev type') })),
  }).optional().describe('what its agent published for the numa, hugepages and devices filters (GET /v1/host/inventory has the whole inventory)'),
}).meta({ id: 'Host', description: 'a host of the cluster (or the one host of a single-host daemon)' }));

const etcdMember = describes<EtcdMemberView>()(z.object({
  endpoint: z.string(), healthy: z.boolean(), error: z.string().nullable().describe('why it is not healthy'),
}).meta({ id: 'EtcdMember' }));

export const clusterStatusSchema = describes<ClusterStatusView>()(z.object({
  host: z.string().describe('the host that answered'),
  clustered: z.boolean().describe('whether this daemon is a member (etcd store, not left)'),
  prefix: z.string().nullable(),
  leaseTtlSeconds: z.number().int().nullable(),
  leader: z.string().nullable().describe('the host whose HA manager leads'),
  etcd: z.array(etcdMember),
  members: z.array(hostSchema),
}).meta({ id: 'ClusterStatus', description: 'members, leader, etcd health and lease ages' }));

export const joinTokenSchema = describes<JoinTokenCreatedView>()(z.object({
  token: z.string().describe('shown once; etcd keeps its SHA-256'), expiresAt: z.string(),
}).meta({ id: 'JoinToken' }));

export const clusterSetupSchema = describes<ClusterSetupView>()(z.object({
  host: z.string(), endpoints: z.array(z.string()), prefix: z.string(),
  configFile: z.string().describe('the file the daemon reads the cluster store from at its next start'),
  restartRequired: z.boolean(), copiedVms: z.number().int(), copiedTokens: z.number().int(),
}).meta({ id: 'ClusterSetup', description: 'what cluster init or join wrote for the daemon\'s next start' }));

export const clusterGrantSchema = describes<ClusterJoinGrantView>()(z.object({
  endpoints: z.array(z.string()), prefix: z.string(), leaseTtlSeconds: z.number().int().nullable(),
  peerToken: z.string().describe('the cluster\'s peer credential: hosts move VMs between each other with it'),
}).meta({ id: 'ClusterJoinGrant' }));

export const clusterLeaveSchema = describes<ClusterLeaveView>()(z.object({
  host: z.string(), left: z.boolean(), abandonedVms: z.array(z.string()), restartRequired: z.boolean(),
}).meta({ id: 'ClusterLeave' }));

export const drainSchema = describes<DrainView>()(z.object({
  host: z.string(),
  state: z.enum(DRAIN_STATES).describe('draining (under way), drained (every VM left), failed (some could not; see their errors)'),
  startedAt: z.string(), finishedAt: z.string().nullable(),
  vms: z.array(z.object({
    vm: z.string(), action: z.enum(DRAIN_VM_ACTIONS), state: z.enum(DRAIN_VM_STATES), to: z.string().nullable(), error: z.string().nullable(),
  })),
}).meta({ id: 'Drain', description: 'a host\'s drain and its progress per VM' }));
