/** Zod schemas of what the API answers, each tied to the type its handler returns (describes.ts); the OpenAPI document's responses. */
export { describes } from './describes.js';
export { tokenSchema, tokenCreatedSchema, peerSchema, secretSchema, secretRotationSchema, operationSchema, eventSchema, auditSchema } from './platform.js';
export { vmViewSchema, vmNicSchema, nicChangeSchema, type NicChangeView, cloneViewSchema, healthSchema, whoamiSchema, statsSchema, type StatsView, type WhoamiView } from './vms.js';
export { poolSchema, volumeSchema, imageSchema, attachSchema, exportSchema, progressLineSchema, progressQuery, progressStream } from './storage.js';
export { snapshotSchema, snapshotListSchema, revertSchema } from './snapshots.js';
export { backupSchema, verifySchema, restoreSchema, pruneSchema, scheduleSchema } from './backups.js';
export { migrationResultSchema, migrationStatusSchema, incomingReadySchema, incomingStatusSchema, commitSchema, abortSchema } from './migration.js';
export { doctorSchema, jsonDocument, TEXT } from './system.js';
export { bulkOperationSchema, bulkReportSchema } from './bulk.js';
export { vmHistorySchema, hostHistorySchema } from './history.js';
export { specCheckSchema } from './spec-check.js';
export { guestInfoSchema } from './guest.js';
export { endpointSchema, driverSchema, inventorySchema, inventoryVmSchema, foreignVmSchema, foreignSnapshotSchema, importSchema, moveOutSchema } from './endpoints.js';
export { networkSchema, networkDetailSchema, leaseSchema } from './networks.js';
export { hostSchema, clusterStatusSchema, joinTokenSchema, clusterSetupSchema, clusterGrantSchema, clusterLeaveSchema, drainSchema } from './hosts.js';
export { nicFirewallViewSchema } from './nic-firewall.js';
export { stackChangeSchema, stackPlanSchema, stackApplySchema, stackStatusSchema, stackSummarySchema, stackDriftSchema, stackGraphSchema } from './stacks.js';
export { fileImportSchema, configExportSchema } from './interchange.js';
