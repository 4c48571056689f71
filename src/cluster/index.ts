export {
  DEFAULT_POLICY, resolvePolicy, parseSelector, unmetRequirement, formatRequirement, schedule, explain, noHostFitsError, placeAll,
  type PlaceAllOptions, type PlaceAllResult, type Placement,
  type AffinityRule, type AffinityTarget, type ExplainRow, type FilterName, type HostCandidate, type HostState,
  type HostVm, type PlacementRequest, type Policy, type PolicyInput, type Rejection, type Requirement, type Resources,
  type ScheduleResult, type ScoreBreakdown, type ScoreMode, type Selector, type Verdict,
} from './scheduler/index.js';
export { clusterKeys, CLUSTER_PREFIX, type ClusterKeys } from './keys.js';
export { LeaseKeeper, type LeaseKeeperOptions } from './lease.js';
export { Election, currentLeader, type ElectionOptions, type Leadership } from './election.js';
export {
  HostAgent, listHosts, DEFAULT_HOST_TTL_SECONDS,
  type HostAgentOptions, type HostAgentState, type HostCapacity, type HostRecord, type PublishedHost,
} from './membership.js';
export { FenceTargets, processStartTicks, processRuns, type FenceTarget } from './fence-targets.js';
export { rejoinAfterLoss, type RejoinOptions } from './rejoin.js';
export { FenceClock, fence, runWatchdog, WATCHDOG_TICK_MS, FENCE_MARGIN_MS, type FenceReport, type FenceVerdict, type WatchdogOptions } from './watchdog.js';
export { planFailover, HA_RESTART_STATES, type HaPlan, type HaPlanInput, type HaRestart, type HaStuck, type HaVm, type HaWaiting } from './ha-plan.js';
export { HaManager, candidates, type HaIntent, type HaManagerOptions } from './ha-manager.js';
export { HaExecutor, type HaExecutorOptions } from './ha-executor.js';
export { VmRecordCache, type VmRecordCacheOptions } from './vm-record-cache.js';
export { HostDirectory, type AdminState } from './host-directory.js';
export { ClusterHosts, SingleHost, type HostsService } from './hosts-service.js';
export { JoinTokens, JOIN_TOKEN_PREFIX, DEFAULT_JOIN_TOKEN_TTL_SECONDS, MAX_JOIN_TOKEN_TTL_SECONDS, type JoinTokenRecord } from './join-tokens.js';
export {
  Membership, PEER_TOKEN_SECRET, etcdUnreachable,
  type ClusterService, type ClusterStoreSettings, type MembershipOptions, type OpenedCluster,
} from './membership-service.js';
export { DrainRunner, planDrain, apiOf, type DrainRunnerOptions } from './drain.js';
export { placeNewVm, refusalLines, checkNamedHost, type CreatePlacement, type HostChoice } from './create-placement.js';
export { explainPlacement, explainTarget, placementRequestOf, candidatesOf, groupsOf, ANTI_AFFINITY_LABEL, type ExplainTarget } from './schedule-explain.js';
export { planRebalance, DEFAULT_REBALANCE_THRESHOLD, type RebalanceVm, type RebalanceMove, type RebalancePlanResult } from './rebalance-plan.js';
export {
  Rebalancer, rebalancePlan, DEFAULT_REBALANCE_CONCURRENCY, MAX_REBALANCE_CONCURRENCY,
  type RebalanceRequest, type RebalanceProgress, type RebalancerOptions,
} from './rebalance.js';
