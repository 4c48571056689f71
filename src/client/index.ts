export { PolyvisorClient, type ClientOptions, type VmActionName } from './client.js';
export { request, decode, urlTarget, type Endpoint, type RawResponse } from './transport.js';
export { MigrationClient, type MigrateRequest, type MigrationStatus, type MigrationProgressView, type MigrationResultView, type PostcopyModeName } from './migration-client.js';
export { StorageClient, type StorageClientOptions, type Progress } from './storage-client.js';
export { PlatformClient, type PlatformClientOptions } from './platform-client.js';
