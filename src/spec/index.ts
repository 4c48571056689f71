export {
  SPEC_VERSION,
  vmSpecSchema,
  diskSchema,
  networkSchema,
  bootSchema,
  cpuSchema,
  type VmSpec,
  type VmSpecInput,
  type DiskSpec,
  type NetworkSpec,
  type PortForward,
  type BootSpec,
  type CpuSpec,
} from './schema.js';
export { parseSpecText, validateSpec, upgradeSpec, problemsOf, type FieldProblem } from './parse.js';
export { specJsonSchema } from './json-schema.js';
export { parseSize, formatSize } from './units.js';
export { VM_STATES, type VmState } from './state.js';
export type { VmView, HealthView, ErrorBody } from './views.js';
