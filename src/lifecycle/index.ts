export { VmService, type VmServiceOptions, type StopOptions, type OpOptions } from './vm-service.js';
export { OperationRegistry, type OperationContext, type OperationRegistryOptions } from './operations.js';
export { StateKeeper, type StateChange } from './state-keeper.js';
export { KeyedQueue } from './job-queue.js';
export {
  TRANSITIONS,
  ACTIONS,
  canTransition,
  assertTransition,
  assertAction,
  actionsAllowedIn,
  type VmAction,
} from './transitions.js';
export { DiskService, type DiskServiceOptions, type AttachRequest, type AttachResult } from './disk-service.js';
export { withCloudInitSeed, buildSeedFor } from './cloud-init-seed.js';
