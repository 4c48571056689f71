export type { Store, MetaStore, VmRecord, VmPatch, VmFilter, VmRuntimeRecord, TokenRecord, TokenStore, AuditEntry, AuditFilter, AuditStore } from './store.js';
