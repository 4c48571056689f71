export {
  DEFAULT_POLICY, resolvePolicy, parseSelector, unmetRequirement, formatRequirement, schedule, explain, noHostFitsError, placeAll,
  type PlaceAllOptions, type PlaceAllResult, type Placement,
  type AffinityRule, type AffinityTarget, type ExplainRow, type FilterName, type HostCandidate, type HostState,
  type HostVm, type PlacementRequest, type Policy, type PolicyInput, type Rejection, type Requirement, type Resources,
  type ScheduleResult, type ScoreBreakdown, type ScoreMode, type Selector, type Verdict,
} from './scheduler/index.js';
