/**
 * The host-to-host handshake between two daemons: what the source sends the
 * target's REST API (routes in api/routes/migration-incoming.ts, client in
 * client/migration-client.ts) and what comes back. migration/ sees the other
 * daemon only through the MigrationPeer interface; daemon/ wires the client.
 */
import type { HotplugLayout, MigrationTuning, NbdMirror } from '../drivers/index.js';
import type { VmSpec, VmState } from '../spec/index.js';
import type { SourceFacts } from './compat.js';

/** Where to move a VM: another daemon's URL, a token with vm:migrate-in there, and its pinned TLS fingerprint for https. */
export interface MigrationTargetRef {
  url: string;
  token: string;
  tlsFingerprint?: string;
}

export interface IncomingDisk {
  name: string;
  format: 'qcow2' | 'raw';
  /** Live: the guest-visible size of the empty image the target creates and exports over NBD. */
  virtualSize: number;
  /** Offline: the file's size in bytes (copied byte for byte). */
  fileBytes: number;
  /** false: a disk given by path, which must be visible at the same path on the target (shared storage). */
  copy: boolean;
}

export interface IncomingRequest {
  migrationId: string;
  mode: 'live' | 'offline';
  source: SourceFacts;
  vm: { id: string; name: string; spec: VmSpec; state: VmState };
  /** Live: what was hot-added to the source (vm resize); the target starts with the same boot layout and devices. */
  hotplugged?: HotplugLayout;
  disks: IncomingDisk[];
  /** Offline move of a suspended VM: the size of its save file, copied as export "state". */
  saveFileBytes?: number;
  tuning?: MigrationTuning;
  /** Migration capabilities the move switches on (checked against the target's QEMU). */
  features: string[];
  /** PEM texts for the target's end of the TLS stream (server certificate and key, and the CA that signed both ends). */
  tls?: { hostname: string; caCert: string; serverCert: string; serverKey: string };
  /** The target gives up (and removes everything) if the move has not been committed by then. */
  timeoutSeconds: number;
  /**
   * Encrypted disks: disk name → its passphrase (the target stores it under
   * the same secret name before its QEMU starts). Carried by this request
   * only; never logged, never answered (docs/security.md "Encrypted disks").
   */
  diskKeys?: Record<string, string>;
}

export interface IncomingReady {
  migrationId: string;
  /** The target daemon's host name. */
  host: string;
  /** Live: where the source sends the stream (tcp:ADDR:PORT). */
  uri?: string;
  pid?: number;
  /** Live: NBD exports of the copied disks; offline: one export per file (disk names, and "state"). */
  nbd: NbdMirror[];
}

export type IncomingPhase = 'waiting' | 'committed' | 'aborted';

export interface IncomingStatus {
  migrationId: string;
  vm: string;
  mode: 'live' | 'offline';
  phase: IncomingPhase;
  /** Live: QEMU's status of the incoming stream (active, completed…). */
  qemuStatus?: string;
}

export interface CommitResult {
  migrationId: string;
  vm: string;
  state: VmState;
  pid: number | null;
  /** From the commit request to the guest running again on the target (live). */
  handoverMs: number;
}

/** What an abort found: the target rolled back (or had nothing), or it had already committed. */
export interface AbortResult {
  migrationId: string;
  outcome: 'aborted' | 'committed';
}

export interface MigrationPeer {
  prepare(req: IncomingRequest): Promise<IncomingReady>;
  status(migrationId: string): Promise<IncomingStatus>;
  commit(migrationId: string): Promise<CommitResult>;
  /** Idempotent; `vm`/`vmId` let a restarted target answer for a migration it no longer remembers. */
  abort(migrationId: string, vm: { name: string; id: string }): Promise<AbortResult>;
}

export type PeerFactory = (target: MigrationTargetRef) => MigrationPeer;

/** The export name of a suspended VM's save file in an offline move. */
export const STATE_EXPORT = 'state';

/** The name the target's TLS certificate is issued for (QEMU checks it as tls-hostname). */
export const TLS_HOSTNAME = 'polyvisor-migration-target';

/** Source and target share this; both sides need it. */
export type { NbdMirror };
