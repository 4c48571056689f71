/** Typed client of bulk actions (POST /v1/vms/actions): one action over the VMs a label selector or a list of names picks. */
import type { BulkActionName, BulkReport, OperationView } from '../spec/index.js';
import { decode, request, type Endpoint } from './transport.js';

export interface BulkRequest {
  action: BulkActionName;
  /** key=value[,key=value]: the VMs that carry every label. */
  selector?: string;
  /** These VMs (with a selector: those of them it matches). */
  names?: string[];
  dryRun?: boolean;
  /** VMs acted on at once (daemon default 4). */
  concurrency?: number;
  /** The action's own options (stop: timeoutSeconds, force; snapshot: name, description, ram, type; backup: full, bwlimitMiB; migrate: as POST /v1/vms/{name}/migrate). */
  options?: Record<string, unknown>;
}

export interface BulkClientOptions {
  endpoint: Endpoint;
  token?: string;
  timeoutMs?: number;
}

export class BulkClient {
  constructor(private readonly o: BulkClientOptions) {}

  private async post(path: string, body: BulkRequest, timeoutMs?: number): Promise<OperationView> {
    const t = this.o.timeoutMs ?? timeoutMs;
    return decode<OperationView>(await request(this.o.endpoint, 'POST', path, body, { ...(this.o.token ? { token: this.o.token } : {}), ...(t ? { timeoutMs: t } : {}) }));
  }

  /** Starts the bulk action and answers at once with its running operation (follow it with PlatformClient.waitOperation). */
  start(req: BulkRequest): Promise<OperationView> {
    return this.post('/v1/vms/actions?async=true', req);
  }

  /** Runs the bulk action and answers with the finished operation (status failed, code BULK_FAILED, when any VM failed). */
  run(req: BulkRequest, timeoutMs = 3_600_000): Promise<OperationView> {
    return this.post('/v1/vms/actions', req, timeoutMs);
  }

  /** The per-VM report of a bulk operation (its detail), running or finished. */
  static reportOf(op: OperationView): BulkReport | undefined {
    return op.kind.startsWith('bulk.') && op.detail ? (op.detail as unknown as BulkReport) : undefined;
  }
}
