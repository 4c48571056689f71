/** Shapes of the API platform (tokens, operations, events, audit) the API returns and the client reads. */

/** Roles of API tokens, strongest first (docs/api.md has what each may do); defined in shared/ so the CLI need not load zod. */
import type { Role } from '../shared/index.js';
export { ROLES, type Role } from '../shared/index.js';

export interface TokenView {
  name: string;
  role: Role;
  /** The first characters of the token, to recognise it; never enough to use it. */
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  /** After this time the token no longer works; null: never. */
  expiresAt: string | null;
}

/** A daemon VMs may be moved to, as registered on the source (its token is never shown). */
export interface PeerView {
  name: string;
  url: string;
  tlsFingerprint: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A secret in the secrets store: its name and times, never its value. */
export interface SecretView {
  name: string;
  createdAt: string;
  updatedAt: string;
}

/** Answer of a key rotation: the new key's id and how many values it re-sealed. */
export interface SecretRotationView {
  key: string;
  secrets: number;
}

/** Answer of token creation: the only time the secret is shown. */
export interface TokenCreatedView extends TokenView {
  token: string;
}

export const OPERATION_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

export interface OperationView {
  id: string;
  /** e.g. "vm.start", "vm.stop". */
  kind: string;
  vm: string | null;
  status: OperationStatus;
  /** 0..1; 1 once finished. */
  progress: number;
  /** Who asked: a token name, or "local" on the unix socket. */
  actor: string;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  error: { code: string; message: string; hint: string } | null;
  /** What the operation returned (e.g. the VM view), once succeeded. */
  result?: unknown;
  /** Live detail of a running operation beyond the fraction (e.g. a migration's bytes, pass, dirty rate). */
  detail?: Record<string, unknown>;
}

export type EventView =
  | { seq: number; type: 'vm.state'; at: string; vm: string; id: string; from: string; to: string; reason: string }
  | { seq: number; type: 'vm.removed'; at: string; vm: string; id: string }
  /** The VM's snapshot tree or backup catalogue changed: re-read it. `name` is the snapshot or backup acted on. */
  | { seq: number; type: 'vm.snapshots'; at: string; vm: string; id: string; action: string; name: string | null }
  | { seq: number; type: 'vm.backups'; at: string; vm: string; id: string; action: string; name: string | null }
  | { seq: number; type: 'operation'; at: string; vm: string | null; operation: OperationView };

export interface AuditView {
  id: number;
  at: string;
  /** Token name, "local" (unix socket) or "anonymous" (refused before a token was known). */
  actor: string;
  /** e.g. "POST /v1/vms/:name/:action", or "operation vm.start". */
  action: string;
  /** The resource acted on (VM name, token name, operation id), if any. */
  resource: string | null;
  outcome: 'ok' | 'denied' | 'failed';
  status: number;
  /** Error code, remote address, duration… */
  detail: Record<string, unknown>;
}
