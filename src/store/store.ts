/**
 * The Store interface: narrow on purpose so an etcd backend can follow.
 * Every write is durable (committed) before the promise resolves.
 */
import type { VmSpec, VmState } from '../spec/index.js';

export interface VmRuntimeRecord {
  pid: number;
  accel: 'kvm' | 'tcg';
  startedAt: string;
  qemuVersion: string;
}

export interface VmRecord {
  id: string;
  name: string;
  spec: VmSpec;
  state: VmState;
  /** Why the VM is in this state (e.g. "guest powered off", "QEMU exited while the daemon was down"). */
  stateReason: string;
  /** Host that owns the VM (its runtime lives there). */
  host: string;
  runtime: VmRuntimeRecord | null;
  createdAt: string;
  updatedAt: string;
  /** Bumped on every update; used for compare-and-set. */
  generation: number;
}

export type VmPatch = Partial<Pick<VmRecord, 'spec' | 'state' | 'stateReason' | 'host' | 'runtime'>>;

export interface VmFilter {
  host?: string;
  /** Every label must match exactly. */
  labels?: Record<string, string>;
}

export interface Store {
  /** Throws VM_EXISTS if the name is taken. */
  createVm(rec: Omit<VmRecord, 'createdAt' | 'updatedAt' | 'generation'>): Promise<VmRecord>;
  getVm(name: string): Promise<VmRecord | undefined>;
  /** Sorted by name. */
  listVms(filter?: VmFilter): Promise<VmRecord[]>;
  /**
   * Applies `patch` atomically; throws VM_NOT_FOUND if absent and VM_BUSY if
   * `expectGeneration` is given and does not match.
   */
  updateVm(name: string, patch: VmPatch, expectGeneration?: number): Promise<VmRecord>;
  /** Throws VM_NOT_FOUND if absent. */
  deleteVm(name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A small key/value table for facts about this installation (e.g. the host
 * identity). Values are strings; callers encode anything richer themselves.
 */
export interface MetaStore {
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
  /** Stores `value` only if `key` is absent; returns the value now stored (race-free get-or-create). */
  initMeta(key: string, value: string): Promise<string>;
}
