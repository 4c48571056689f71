export type {
  Accel,
  LaunchPlan,
  RuntimeFiles,
  RunStatus,
  DriverEvent,
  RuntimeInfo,
  Instance,
  Pausable,
  PowerControl,
  Suspendable,
  VmInstance,
  AccelProbe,
  AdoptResult,
  Bootable,
  Driver,
} from './driver.js';
export {
  canMigrateIn,
  canMigrateOut,
  type Migratable,
  type MigrationSource,
  type MigrationTuning,
  type MigrationProgress,
  type MigrationStats,
  type MigrateOutOptions,
  type MigrationSteer,
  type IncomingMigration,
  type IncomingOptions,
  type NbdMirror,
  type MirrorProgress,
  type MirrorMode,
  type MirrorStats,
  type MigrationTlsFiles,
  type HostFacts,
} from './migratable.js';
export { stableMac, nicMacs } from './nic-mac.js';
export { canReportGuestInfo, type GuestInfo, type GuestInfoSource } from './guest-info.js';
export { canGuestExec, type GuestExec, type GuestExecResult } from './guest-exec.js';
export { canHotplugDisks, type DiskHotplug, type HotplugDisk } from './disk-hotplug.js';
export { canHotplugNics, type NicHotplug, type HotplugNic } from './nic-hotplug.js';
export { canHotplugResources, type HotplugLayout, type LiveResources, type ResourceHotplug } from './resource-hotplug.js';
export { canMovePages, type NumaLocality, type NumaPageMover } from './numa.js';
export { canReportStats, type StatsSource, type VmStats, type GuestMemory, type DiskCounters, type NicCounters } from './stats.js';
export {
  canSnapshot, canSnapshotExternal, type Snapshottable, type LoadSnapshotResult, type FreezeResult, type ExternalSnapshottable, type ExternalOverlay, type StreamRequest, type CommitRequest,
} from './snapshots.js';
export { canBackup, type Backupable, type BackupJob, type DiskBitmap } from './backups.js';
export {
  CAPABILITIES, CAPABILITY_TEXT, matrix, yes, no, isCapability,
  type Capability, type CapabilityCell, type CapabilityMatrix,
} from './capabilities.js';
export type {
  EndpointConnection, EndpointDriver, EndpointSession, EndpointInfo, ForeignVm, ForeignVmState, ForeignDisk, ForeignNic,
  ForeignPower, ForeignSnapshot, ForeignSnapshots, ForeignMigration, ForeignReconfigure, ForeignClone, ExportableDisk,
  ForeignExporter, ForeignImporter, ForeignChange, ForeignEvents, ForeignVmStats, ForeignMetrics, ForeignConsoles, Progress,
} from './endpoint.js';
export { DriverRegistry, sessionCapabilities, SHAPED_CAPABILITIES, type DriverRow } from './registry.js';
export { FILE_FORMAT_DRIVERS } from './file-format-drivers.js';
export { renderDriverDocs } from './driver-docs.js';
