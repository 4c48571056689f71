/** Typed client of the backup schedule routes (/v1/backup-schedules). */
import type { BackupPolicy } from './backup-client.js';
import { decode, request, type Endpoint } from './transport.js';

export interface BackupScheduleRequest {
  vm?: string;
  selector?: Record<string, string>;
  /** "every 6h", "daily 02:00", "weekly sun 03:30" (UTC). */
  when: string;
  retention?: BackupPolicy;
  /** Always full backups. */
  full?: boolean;
  enabled?: boolean;
}

export interface BackupScheduleEntry extends BackupScheduleRequest {
  name: string;
  enabled: boolean;
  createdAt: string;
  lastRunAt: string | null;
  lastResult: { at: string; backedUp: Array<{ vm: string; id: string; kind: string }>; pruned: string[]; failed: Array<{ vm: string; error: string }> } | null;
  nextRunAt: string | null;
}

const enc = encodeURIComponent;

export class BackupScheduleClient {
  constructor(private readonly o: { endpoint: Endpoint; token?: string; timeoutMs?: number }) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return decode<T>(await request(this.o.endpoint, method, path, body, { ...(this.o.token ? { token: this.o.token } : {}), timeoutMs: this.o.timeoutMs ?? 60_000 }));
  }

  list(): Promise<BackupScheduleEntry[]> { return this.call('GET', '/v1/backup-schedules'); }
  get(name: string): Promise<BackupScheduleEntry> { return this.call('GET', `/v1/backup-schedules/${enc(name)}`); }
  create(name: string, r: BackupScheduleRequest): Promise<BackupScheduleEntry> { return this.call('POST', '/v1/backup-schedules', { name, ...r }); }
  update(name: string, r: BackupScheduleRequest): Promise<BackupScheduleEntry> { return this.call('PUT', `/v1/backup-schedules/${enc(name)}`, r); }
  remove(name: string): Promise<void> { return this.call('DELETE', `/v1/backup-schedules/${enc(name)}`); }
}
