export { MigrationService, type MigrationServiceOptions, type MigrationResult, type ProgressListener } from './live-migration.js';
export { ActiveMigrations, type MigrationPhase, type MigrationStatusView } from './active.js';
export { parseMigrateOptions, POSTCOPY_MODES, type MigrateOptions, type PostcopyMode } from './options.js';
export { choosePolicy, shouldSwitchToPostcopy, DEFAULT_DOWNTIME_MS, type MigrationPlan, type PolicyContext } from './policy.js';
export { checkMigrationSafety, tcgDirtyBitmapRisk, safeMemorySuggestion, type SafetyInput } from './safety.js';
export { IncomingService, discardUnfinishedIncoming, type IncomingServiceOptions } from './incoming.js';
export { checkCompatibility, describeIncompatibilities, type CompatInput, type Incompatibility, type SourceFacts } from './compat.js';
export { recoverOutgoing, settleOutgoing, type HostMoveResult } from './host-migration.js';
export {
  STATE_EXPORT, TLS_HOSTNAME,
  type MigrationPeer, type PeerFactory, type MigrationTargetRef, type IncomingRequest, type IncomingReady, type IncomingStatus,
  type IncomingDisk, type CommitResult, type AbortResult,
} from './peer.js';
export { PeerRegistry, type PeerSecrets } from './peer-registry.js';
