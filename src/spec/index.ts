export {
  SPEC_VERSION,
  SPEC_VERSIONS,
  NIC_MODELS,
  DISK_BUSES,
  SCSI_CONTROLLERS,
  VIDEO_MODELS,
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
export { specAsInput } from './spec-input.js';
export { specJsonSchema } from './json-schema.js';
export { cloudInitSchema, CLOUD_INIT_DISK, CLOUD_INIT_SEED_FILE, type CloudInitSpec } from './cloud-init.js';
export { parseSize, formatSize } from './units.js';
export {
  CPU_MODELS, NUMA_POLICIES, HUGEPAGE_SIZES, HUGEPAGE_BYTES, GPU_KINDS, EMULATED_GPUS, isPciAddress,
  type CpuModelName, type CpuPinning, type NumaNode, type MemoryLayout, type HostdevSpec, type GpuSpec, type DevicesSpec, type MemoryObjectInput,
} from './topology-schema.js';
export { parseCpuList, formatCpuList } from './cpu-list.js';
export type { HostTopologyFacts, HostNumaNode, HostPciDevice, HostMdevType, HostHugepages, HostCpuInfo } from './host-topology-facts.js';
export { checkAgainstHost, type HostCheck, type ResolvedDevices } from './topology-host-check.js';
export { hostGpus, hostInventory, isGpu, type HostGpuView, type HostInventoryView } from './host-inventory.js';
export { placementFactsOf, type HostPlacementFacts } from './host-placement-facts.js';
export { VM_STATES, type VmState } from './state.js';
export type { VmView, VmNicView, NicAddressSource, CloneView, HealthView, ErrorBody } from './views.js';
export type { ResizeBody, ResizeView } from './resize-view.js';
export { ROLES, OPERATION_STATUSES, type Role, type TokenView, type TokenCreatedView, type PeerView, type SecretView, type SecretRotationView, type OperationStatus, type OperationView, type EventView, type AuditView } from './api-views.js';
export { BULK_ACTIONS, BULK_RESULTS, type BulkActionName, type BulkResultName, type BulkVmResult, type BulkReport } from './bulk-views.js';
export { HISTORY_RANGES, type HistoryRange, type VmHistoryPoint, type HostHistoryPoint, type HistoryView, type VmHistoryView, type HostHistoryView } from './history-views.js';
export type { GuestInfoView, GuestAgentStatus, GuestOs, GuestAddress, GuestInterfaceInfo, GuestFilesystem } from './guest-views.js';
export { SPEC_CHECK_CODES, type SpecCheckCode, type SpecProblem, type SpecCheckView } from './spec-check-views.js';
export {
  LOCAL_ENDPOINT, FOREIGN_VM_STATES, type ForeignVmStateName, type EndpointAddRequest, type EndpointView, type EndpointStatusView, type CapabilityCellView,
  type DriverView, type InventoryVmView, type InventoryView, type ForeignVmView, type ForeignSnapshotView, type ImportView, type MoveOutView,
} from './endpoint-views.js';
export { NETWORK_MODES, type NetworkModeName, type NetworkConfig, type NetworkNicView, type NetworkView, type NetworkDetailView, type LeaseView, type NetworkCreateRequest } from './network-views.js';
export { NETWORK_NAME_PATTERN, NETWORK_NAME_RULE, networkName, firewallRuleSchema, nicFirewallSchema, bandwidthSchema } from './nic-network.js';
export type { NicFirewallSpec, NicFirewallInput, NicFirewallView } from './nic-firewall-view.js';
export { STACK_MEMBER_KINDS, STACK_ACTIONS, type StackMemberKind, type StackAction, type StackFieldChange, type StackChangeView, type StackPlanView, type StackStepView, type StackApplyView, type StackMemberStatusView, type StackStatusView, type StackSummaryView, type StackDriftView, type StackGraphView, type StackRequest } from './stack-views.js';
export { planText, planIsEmpty } from './stack-text.js';
export { HOST_STATES, type HostStateName, type HostView, type HostResourcesView } from './host-views.js';
export {
  DRAIN_STATES, DRAIN_VM_ACTIONS, DRAIN_VM_STATES,
  type ClusterJoinGrantView, type ClusterLeaveView, type ClusterSetupView, type ClusterStatusView, type DrainStateName, type DrainView, type DrainVmView,
  type EtcdMemberView, type JoinTokenCreatedView,
} from './cluster-views.js';
export type { ScheduleExplainView, ScheduleExplainHostView, ScheduleVerdictView } from './schedule-views.js';
export type { RebalanceView, RebalanceMoveView } from './rebalance-views.js';
export type { MappingWarningView, FileImportView, ConfigExportView } from './interchange-views.js';
