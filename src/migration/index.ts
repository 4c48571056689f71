export { MigrationService, type MigrationServiceOptions, type MigrationResult, type ProgressListener } from './live-migration.js';
export { ActiveMigrations, type MigrationPhase, type MigrationStatusView } from './active.js';
export { parseMigrateOptions, POSTCOPY_MODES, type MigrateOptions, type PostcopyMode } from './options.js';
export { choosePolicy, shouldSwitchToPostcopy, DEFAULT_DOWNTIME_MS, type MigrationPlan, type PolicyContext } from './policy.js';
export { checkMigrationSafety, tcgDirtyBitmapRisk, safeMemorySuggestion, type SafetyInput } from './safety.js';
