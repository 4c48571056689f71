/** VM states (the transition table lives in lifecycle/). */
export const VM_STATES = [
  'created',
  'starting',
  'running',
  'paused',
  'suspended',
  'stopping',
  'stopped',
  'migrating',
  'error',
] as const;
export type VmState = (typeof VM_STATES)[number];
