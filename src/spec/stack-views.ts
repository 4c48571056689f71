/**
 * Declarative stacks (issue 21) as the API, the CLI and the web UI see them.
 * The stack file's schema and the planner live in src/stack; these are the
 * user-facing shapes. Pure types.
 */

export const STACK_MEMBER_KINDS = ['vm', 'network', 'volume'] as const;
export type StackMemberKind = (typeof STACK_MEMBER_KINDS)[number];

/**
 * What a plan does to one object: create it; update it in place (no restart);
 * update it with a restart (a running VM is stopped, changed and started);
 * replace it (removed and made again: its data goes); delete it (the stack owns
 * it and the file no longer names it); start it (a stopped VM of the stack);
 * stop (down only); noop.
 */
export const STACK_ACTIONS = ['create', 'update', 'update-restart', 'replace', 'delete', 'start', 'stop', 'noop'] as const;
export type StackAction = (typeof STACK_ACTIONS)[number];

export interface StackFieldChange {
  /** Dotted path of the field in the object's spec (`memory`, `cpu.count`, `disks`). */
  field: string;
  /** Current and wanted values as short text; null when absent. */
  from: string | null;
  to: string | null;
}

export interface StackChangeView {
  kind: StackMemberKind;
  /** The member of the stack file (a counted VM member has several objects). */
  member: string;
  /** The object's own name (VM, network or volume). */
  name: string;
  action: StackAction;
  /** The fields that cause the action (empty for create, delete, start, noop). */
  fields: StackFieldChange[];
  /** One line saying why. */
  reason: string;
}

export interface StackPlanView {
  stack: string;
  changes: StackChangeView[];
  /** How many changes of each action (noop included). */
  summary: Record<StackAction, number>;
  /** The order apply follows: each level's members depend only on earlier levels. */
  order: string[][];
}

export interface StackStepView {
  kind: StackMemberKind;
  member: string;
  name: string;
  action: StackAction;
  /** pending, running, done, failed, skipped (a dependency failed or the apply was cancelled). */
  result: 'pending' | 'running' | 'done' | 'failed' | 'skipped';
  error: { code: string; message: string } | null;
  ms: number;
}

export interface StackApplyView {
  stack: string;
  steps: StackStepView[];
  done: number;
  failed: number;
  skipped: number;
}

export interface StackMemberStatusView {
  kind: StackMemberKind;
  member: string;
  name: string;
  /** A VM's state; `present` for a network or volume; `missing` when it is gone. */
  state: string;
  /** A VM's address (guest agent, network reservation or forwarded port); a network's subnet; a volume's path. */
  address: string | null;
  /** `ready`, `not ready: WHY`, or `n/a` (no condition, or not a VM). */
  readiness: string;
}

export interface StackStatusView {
  stack: string;
  appliedAt: string;
  members: StackMemberStatusView[];
  /** The dependency order of the last applied file: levels, and an edge from each member to what it depends on. */
  order: string[][];
  edges: Array<{ from: string; to: string }>;
}

export interface StackSummaryView {
  stack: string;
  appliedAt: string;
  vms: number;
  networks: number;
  volumes: number;
}

/** One out-of-band change: what the last apply made and what is there now. */
export interface StackDriftView {
  stack: string;
  drift: StackChangeView[];
}

export interface StackGraphView {
  stack: string;
  order: string[][];
  edges: Array<{ from: string; to: string }>;
  text: string;
  dot: string;
}

/** What POST /v1/stacks/plan and /apply take: the stack file as a document, and the values of its variables. */
export interface StackRequest {
  document: unknown;
  variables?: Record<string, string>;
  /** apply only: on a failure, remove what this apply created (not what existed before), dependants first. */
  rollbackOnFailure?: boolean;
}
