/** Shapes the API returns and the client reads (types only). */
import type { VmSpec } from './schema.js';
import type { VmState } from './state.js';

export interface VmView {
  id: string;
  name: string;
  state: VmState;
  stateReason: string;
  host: string;
  spec: VmSpec;
  runtime: { pid: number; accel: 'kvm' | 'tcg'; startedAt: string; qemuVersion: string } | null;
  /** Actions the current state allows. */
  actions: string[];
  createdAt: string;
  updatedAt: string;
  /** Paths on the VM's host, for operators. */
  files: { serialLog: string; dir: string };
}

/** What POST /v1/vms/:name/clone returns (or its operation's result). */
export interface CloneView {
  vm: VmView;
  /** Disks whose data were copied from the source. */
  copied: string[];
  /** Read-only images both VMs use. */
  shared: string[];
  /** What the clone does not take from the source, and why (MACs, host port forwards). */
  notes: string[];
}

export interface HealthView {
  ok: true;
  version: string;
  host: string;
  pid: number;
}

export interface ErrorBody {
  code: string;
  message: string;
  hint: string;
  details?: unknown;
}
