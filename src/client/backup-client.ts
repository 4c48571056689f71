/** Typed client of the backup routes (/v1/vms/:name/backups). */
import type { OperationView } from '../spec/index.js';
import { decode, request, type Endpoint } from './transport.js';

export interface BackupClientOptions { endpoint: Endpoint; token?: string; timeoutMs?: number }

export interface BackupEntry {
  id: string;
  vm: string;
  kind: 'full' | 'incremental';
  parent: string | null;
  mode: 'live' | 'offline';
  fullReason?: string;
  createdAt: string;
  durationMs: number;
  disks: Array<{ disk: string; file: string; sizeBytes: number; virtualSize: number; sha256: string }>;
  spec: Record<string, unknown>;
}
export interface BackupVerify {
  vm: string; id: string; ok: boolean; checked: Array<{ id: string; disk: string; sha256: boolean; clean: boolean }>; problems: string[];
  boot?: { booted: boolean; ms: number; scratchVm: string; reason?: string };
}
export interface BackupRestore { vm: string; id: string; disks: string[]; createdVm: boolean }
export interface BackupPolicy { keepLast?: number; keepHourly?: number; keepDaily?: number; keepWeekly?: number; keepMonthly?: number; keepYearly?: number }
export interface BackupPrune { vm: string; kept: Array<{ id: string; why: string[] }>; removed: string[]; dryRun: boolean }

export interface BackupRequest { full?: boolean; bwlimitMiB?: number }

const enc = encodeURIComponent;

export class BackupClient {
  constructor(private readonly o: BackupClientOptions) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const opts = { ...(this.o.token ? { token: this.o.token } : {}), timeoutMs: this.o.timeoutMs ?? 6 * 3600_000 };
    return decode<T>(await request(this.o.endpoint, method, path, body, opts));
  }

  create(vm: string, o: BackupRequest = {}): Promise<BackupEntry> { return this.call('POST', `/v1/vms/${enc(vm)}/backups`, o); }
  /** Starts the backup as an operation (202); its detail has phase, doneBytes, totalBytes; its result is the BackupEntry. */
  createAsync(vm: string, o: BackupRequest = {}): Promise<OperationView> { return this.call('POST', `/v1/vms/${enc(vm)}/backups?async=1`, o); }
  list(vm: string): Promise<BackupEntry[]> { return this.call('GET', `/v1/vms/${enc(vm)}/backups`); }
  get(vm: string, id: string): Promise<BackupEntry> { return this.call('GET', `/v1/vms/${enc(vm)}/backups/${enc(id)}`); }
  verify(vm: string, id: string, o: { boot?: boolean; bootTimeoutSeconds?: number } = {}): Promise<BackupVerify> { return this.call('POST', `/v1/vms/${enc(vm)}/backups/${enc(id)}/verify`, o); }
  restore(vm: string, id: string, o: { toVm?: string; disks?: string[]; confirm?: boolean }): Promise<BackupRestore> {
    return this.call('POST', `/v1/vms/${enc(vm)}/backups/${enc(id)}/restore`, o);
  }
  prune(vm: string, policy: BackupPolicy, dryRun = false): Promise<BackupPrune> { return this.call('POST', `/v1/vms/${enc(vm)}/backups/prune`, { ...policy, dryRun }); }
}
