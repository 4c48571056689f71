/** Typed client of resource history: GET /v1/vms/{name}/history and GET /v1/host/history. */
import type { HistoryRange, HostHistoryView, VmHistoryView } from '../spec/index.js';
import { decode, request, type Endpoint } from './transport.js';

export interface HistoryClientOptions {
  endpoint: Endpoint;
  token?: string;
  timeoutMs?: number;
}

export class HistoryClient {
  constructor(private readonly o: HistoryClientOptions) {}

  private async call<T>(path: string): Promise<T> {
    const t = this.o.timeoutMs;
    return decode<T>(await request(this.o.endpoint, 'GET', path, undefined, { ...(this.o.token ? { token: this.o.token } : {}), ...(t ? { timeoutMs: t } : {}) }));
  }

  /** A VM's figures, oldest first: 10 s steps for 1h, 1 min steps for 6h and 1d; no points while it did not run. */
  vm(name: string, range: HistoryRange = '1h'): Promise<VmHistoryView> {
    return this.call(`/v1/vms/${encodeURIComponent(name)}/history?range=${range}`);
  }

  /** The host's CPU, memory and load, oldest first. */
  host(range: HistoryRange = '1h'): Promise<HostHistoryView> {
    return this.call(`/v1/host/history?range=${range}`);
  }
}
