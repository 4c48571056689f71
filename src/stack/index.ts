export { STACK_VERSION, stackFileSchema, stackJsonSchema, readinessSchema, type StackFile, type StackFileInput, type StackVmMember, type Readiness } from './schema.js';
export { interpolate, type VarValue } from './variables.js';
export { resolveStack, parseStackText, type DesiredStack, type DesiredVm, type DesiredNetwork, type DesiredVolume } from './resolve.js';
export { buildGraph, graphText, graphDot, dependantsOf, type GraphNode, type StackGraph } from './graph.js';
export { planStack, diffFields, summarize, type ActualState, type ActualVm, type ActualNetwork, type ActualVolume } from './plan.js';
export { STACK_LABEL, MEMBER_LABEL, vmOwner, ownedBy, type Owner } from './ownership.js';
