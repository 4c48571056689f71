export { VmService, type VmServiceOptions, type StopOptions } from './vm-service.js';
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
