export type { Store, MetaStore, VmRecord, VmPatch, VmFilter, VmRuntimeRecord } from './store.js';
