export type { Store, MetaStore, VmRecord, VmOwner, VmPatch, VmFilter, VmRuntimeRecord, TokenRecord, TokenStore, AuditEntry, AuditFilter, AuditStore } from './store.js';
export type { NetworkStore, NetworkRecord, NetworkPatch, NicAllocation, NicAllocationFilter } from './network-store.js';
export type { ClusterKv, KeyValue, KvCompare, KvOp, KvTxnResult, KvRangeOptions, KvWatch, KvWatchEvent, Lease } from './kv.js';
