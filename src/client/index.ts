export { PolyvisorClient, type ClientOptions, type VmActionName } from './client.js';
export { request, decode, urlTarget, requestTarget, webSocketTarget, type Endpoint, type RawResponse } from './transport.js';
export { fetchCertificate, formatFingerprint, normalizeFingerprint, pinnedConnection, type PeerCertificate } from './tls.js';
export { MigrationClient, type MigrateRequest, type MigrationStatus, type MigrationProgressView, type MigrationResultView, type PostcopyModeName } from './migration-client.js';
export { StorageClient, type StorageClientOptions, type Progress } from './storage-client.js';
export { PlatformClient, type PlatformClientOptions } from './platform-client.js';
export { SnapshotClient, type SnapshotClientOptions, type SnapshotEntry, type SnapshotListing, type SnapshotRevert } from './snapshot-client.js';
export { OpsClient, type DoctorReportView, type DoctorFindingView } from './ops-client.js';
export { BackupClient, type BackupClientOptions, type BackupEntry, type BackupVerify, type BackupRestore, type BackupPolicy, type BackupPrune } from './backup-client.js';
