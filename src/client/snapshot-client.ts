/** Typed client of the snapshot routes (/v1/vms/:name/snapshots). */
import { decode, request, type Endpoint } from './transport.js';

export interface SnapshotClientOptions {
  endpoint: Endpoint;
  token?: string;
  timeoutMs?: number;
}

export interface SnapshotEntry {
  name: string;
  description: string;
  parent: string | null;
  kind: 'ram' | 'disk';
  consistency: 'full-state' | 'application-consistent' | 'crash-consistent' | 'offline';
  /** Live disk snapshots: filesystems the guest agent froze (absent: no freeze was tried). */
  frozenFilesystems?: number;
  /** Why a live disk snapshot is only crash-consistent. */
  freezeNote?: string;
  createdAt: string;
  disks: string[];
  vmState: string;
  depth: number;
  current: boolean;
  vmStateBytes: number;
  /** internal: inside the qcow2 image; external: an overlay file per disk. */
  type: 'internal' | 'external';
  /** External nodes: bytes of their files. */
  fileBytes: number;
  files?: Record<string, string>;
  /** A delete that did not finish; `rm` again completes it. */
  deleting?: boolean;
}

export interface SnapshotListing { vm: string; current: string | null; snapshots: SnapshotEntry[] }
export interface SnapshotRevert { vm: string; snapshot: string; ram: boolean; restarted: boolean; bitmapsReset: string[]; state: string }

const enc = encodeURIComponent;

export class SnapshotClient {
  constructor(private readonly o: SnapshotClientOptions) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const opts = { ...(this.o.token ? { token: this.o.token } : {}), timeoutMs: this.o.timeoutMs ?? 30 * 60_000 };
    return decode<T>(await request(this.o.endpoint, method, path, body, opts));
  }

  list(vm: string): Promise<SnapshotListing> { return this.call('GET', `/v1/vms/${enc(vm)}/snapshots`); }
  create(vm: string, body: { name: string; description?: string; ram?: boolean; type?: 'internal' | 'external' }): Promise<SnapshotEntry> {
    return this.call('POST', `/v1/vms/${enc(vm)}/snapshots`, body);
  }
  revert(vm: string, snapshot: string): Promise<SnapshotRevert> { return this.call('POST', `/v1/vms/${enc(vm)}/snapshots/${enc(snapshot)}/revert`, {}); }
  remove(vm: string, snapshot: string): Promise<void> { return this.call('DELETE', `/v1/vms/${enc(vm)}/snapshots/${enc(snapshot)}`); }
}
