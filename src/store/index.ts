export type { Store, VmRecord, VmPatch, VmFilter, VmRuntimeRecord } from './store.js';
