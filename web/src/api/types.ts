/** Shapes the UI reads: the API's view types (spec/) and the typed client's (client/; types only, nothing of node:http reaches the bundle), local copies of the few that live beside server code. */
export type { VmView, VmNicView, CloneView, HealthView, ErrorBody } from '../../../src/spec/views.js';
export type { GuestInfoView } from '../../../src/spec/guest-views.js';
export type { NetworkView, NetworkDetailView, NetworkCreateRequest, NetworkNicView, LeaseView } from '../../../src/spec/network-views.js';
export type { NicFirewallView, FirewallRuleSpec as FirewallRuleView } from '../../../src/spec/nic-firewall-view.js';
export type { OperationView, EventView, AuditView, Role } from '../../../src/spec/api-views.js';
export type { BulkReport, BulkVmResult } from '../../../src/spec/bulk-views.js';
export type { EndpointView, EndpointStatusView, DriverView, InventoryView, InventoryVmView } from '../../../src/spec/endpoint-views.js';
export type { StackApplyView, StackGraphView, StackPlanView, StackRequest, StackStatusView, StackSummaryView } from '../../../src/spec/stack-views.js';
export { planIsEmpty, planText } from '../../../src/spec/stack-text.js';

export interface WhoamiView {
  actor: string;
  role: 'admin' | 'operator' | 'viewer' | 'peer';
  via: 'unix' | 'tcp';
  permissions: string[];
}

export type { SnapshotEntry as SnapshotView, SnapshotListing as SnapshotList } from '../../../src/client/snapshot-client.js';
export type { BackupEntry as BackupView, BackupVerify } from '../../../src/client/backup-client.js';
export type { MigrationStatus as MigrationStatusView, MigrationResultView } from '../../../src/client/migration-client.js';

export interface PoolView {
  name: string;
  kind: string;
  path: string;
  capacityBytes: number;
  freeBytes: number;
  usedBytes: number;
  default: boolean;
  volumes: number;
  allocatedBytes: number;
}

export interface ImageView {
  name: string;
  kind: string;
  format: string;
  path: string;
  sizeBytes: number;
  virtualSize: number;
  checksum: { algorithm: string; hex: string } | null;
  verified: boolean;
  source: string;
  importedAt: string;
}

export interface DiskCounters { disk: string; readBytes: number; writeBytes: number }
export interface NicCounters { nic: string; rxBytes: number; txBytes: number }
export interface VmSample {
  name: string;
  state: string;
  vcpus: number;
  memoryBytes: number;
  stats: { cpuSeconds: number | null; rssBytes: number | null; balloonBytes: number | null; guestMemory?: { usedBytes: number; totalBytes: number } | null; disks: DiskCounters[]; nics: NicCounters[] } | null;
}
export interface HostSample {
  cpuSeconds: Record<string, number>;
  cpus: number;
  memTotalBytes: number;
  memAvailableBytes: number;
  load: [number, number, number];
  disks: Array<{ device: string; readBytes: number; writeBytes: number }>;
  nets: Array<{ iface: string; rxBytes: number; txBytes: number }>;
}
export interface StatsView { at: string; host: HostSample; vms: VmSample[] }
export type { ResizeBody, ResizeView } from '../../../src/spec/resize-view.js';
