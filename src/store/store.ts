/**
 * The Store interface: narrow on purpose so an etcd backend can follow.
 * Every write is durable (committed) before the promise resolves.
 */
import type { AuditView, Role, VmSpec, VmState } from '../spec/index.js';

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
  /** Who created the VM (create, clone, import by an API caller): the token and its role, counted by the role quotas (docs/security.md). Absent for VMs made before it was recorded or by the daemon itself. */
  owner?: VmOwner;
  createdAt: string;
  updatedAt: string;
  /** Bumped on every update; used for compare-and-set. */
  generation: number;
}

export interface VmOwner {
  /** Token name ("local" for the unix socket). */
  actor: string;
  role: Role;
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

/** An API token: only its SHA-256 hash is stored, never the secret. */
export interface TokenRecord {
  name: string;
  role: Role;
  /** Hex SHA-256 of the whole token. */
  hash: string;
  /** The first characters of the token, to recognise it in a list. */
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  /** After this time the token no longer works; null: never. */
  expiresAt: string | null;
}

export interface TokenStore {
  /** Throws TOKEN_EXISTS if the name is taken. */
  createToken(rec: Omit<TokenRecord, 'createdAt' | 'lastUsedAt' | 'expiresAt'> & { expiresAt?: string | null }): Promise<TokenRecord>;
  findTokenByHash(hash: string): Promise<TokenRecord | undefined>;
  /** Sorted by name. */
  listTokens(): Promise<TokenRecord[]>;
  /** Throws TOKEN_NOT_FOUND if absent. */
  deleteToken(name: string): Promise<void>;
  touchToken(name: string, at: string): Promise<void>;
}

export type AuditEntry = Omit<AuditView, 'id'>;

export interface AuditFilter {
  actor?: string;
  resource?: string;
  /** Only entries with a smaller id (paging backwards). */
  before?: number;
  /** Only entries at or after this ISO time. */
  since?: string;
  /** Newest first; default 100, at most 1000. */
  limit?: number;
}

export interface AuditStore {
  appendAudit(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  listAudit(filter?: AuditFilter): Promise<AuditView[]>;
  /** Up to `limit` entries older than `before` (an ISO time), oldest first: what retention removes next. */
  auditOlderThan(before: string, limit: number): Promise<AuditView[]>;
  /** Removes every entry with an id up to `id`; returns how many went. */
  deleteAuditThrough(id: number): Promise<number>;
}
