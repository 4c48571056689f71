export { VmService, type VmServiceOptions, type VmNicHooks, type StopOptions, type OpOptions } from './vm-service.js';
export { checkClone, cloneVm, type CloneRequest, type CloneResult, type CloneOptions } from './vm-clone.js';
export { OperationRegistry, type OperationContext, type OperationRegistryOptions } from './operations.js';
export { runBulk, mapLimit, type BulkRunRequest, type BulkStep, type BulkTarget } from './bulk-run.js';
export { StateKeeper, type StateChange, type ContentChange } from './state-keeper.js';
export { KeyedQueue } from './job-queue.js';
export { faultPoint } from './fault-points.js';
export {
  TRANSITIONS,
  ACTIONS,
  canTransition,
  assertTransition,
  assertAction,
  actionsAllowedIn,
  type VmAction,
} from './transitions.js';
export { DiskService, type DiskServiceOptions, type AttachRequest, type AttachResult } from './disk-service.js';
export { withCloudInitSeed, buildSeedFor } from './cloud-init-seed.js';
export { sampleVms, type VmSample } from './vm-stats.js';
export { guestInfoOf } from './guest-info.js';
export { guestExecOf } from './guest-exec.js';
export { SnapshotService, type SnapshotServiceOptions, type CreateSnapshotRequest, type SnapshotView, type SnapshotList, type RevertResult } from './snapshot-service.js';
export { MAX_SNAPSHOT_DEPTH, type SnapshotNode, type SnapshotKind, type Consistency } from './snapshot-catalogue.js';
export { readCatalogue as readSnapshotCatalogue } from './snapshot-catalogue.js';
export { writeCatalogue as writeSnapshotCatalogue } from './snapshot-catalogue.js';
export { QEMU_OVERHEAD_BYTES } from './memory-admission.js';
export { checkBootFiles } from './boot-files.js';
export { NetworkService, DEFAULT_NETWORK, type NetworkServiceOptions } from './network-service.js';
export { networkNics, nicMac, type NetworkNic } from './nic-attachments.js';
export { NicFirewallService } from './nic-firewall.js';
export { NicService, type NicAddRequest, type NicChange } from './nic-hotplug-service.js';
export { ResizeService, checkResize, resizedSpec, MEMORY_BLOCK_MIB, type ResizeRequest, type ResizeResult } from './vm-resize-service.js';
export { checkQuota, defaultQuotas, footprintOf, type QuotaConfig, type QuotaLimits, type Footprint } from './quotas.js';
export { checkForwardPolicy, FIRST_UNPRIVILEGED_PORT } from './port-forward-policy.js';
export { vmDir } from './vm-paths.js';
export { refuseEncrypted, encryptedDisks, diskKeyName, importKeyName, backupKeyName, type DiskKeyStore } from './disk-keys.js';
export { NumaBalancer, describeNumaDecision, NUMA_BALANCING_MODES, type NumaBalancingMode, type NumaBalancerOptions, type NumaDecision, type NumaObservation } from './numa-balancer.js';
