export type {
  AffinityRule, AffinityTarget, ExplainRow, FilterName, HostCandidate, HostState, HostVm, PlacementRequest, Policy,
  Rejection, Resources, ScheduleResult, ScoreBreakdown, ScoreMode, Verdict,
} from './types.js';
export { DEFAULT_POLICY, resolvePolicy, type PolicyInput } from './policy.js';
export { parseSelector, unmetRequirement, formatRequirement, type Requirement, type Selector } from './selector.js';
export { schedule, explain, noHostFitsError } from './schedule.js';
export { placeAll, type PlaceAllOptions, type PlaceAllResult, type Placement } from './place-all.js';
export { topologyRequestOf } from './topology-request.js';
export type { HostTopology, TopologyRequest, HugepageSize } from './types.js';
