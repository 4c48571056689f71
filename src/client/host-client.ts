/** Typed client of the hosts routes (/v1/hosts, issue 19). */
import type { DrainView, HostInventoryView, HostView, ScheduleExplainView } from '../spec/index.js';
import { decode, request, type Endpoint } from './transport.js';

const enc = encodeURIComponent;

export class HostClient {
  constructor(private readonly o: { endpoint: Endpoint; token?: string; timeoutMs?: number }) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return decode<T>(await request(this.o.endpoint, method, path, body, { ...(this.o.token ? { token: this.o.token } : {}), timeoutMs: this.o.timeoutMs ?? 60_000 }));
  }

  list(): Promise<HostView[]> { return this.call('GET', '/v1/hosts'); }
  cordon(name: string): Promise<void> { return this.call('POST', `/v1/hosts/${enc(name)}/cordon`); }
  uncordon(name: string): Promise<void> { return this.call('POST', `/v1/hosts/${enc(name)}/uncordon`); }
  drain(name: string): Promise<DrainView> { return this.call('POST', `/v1/hosts/${enc(name)}/drain`); }
  drainStatus(name: string): Promise<DrainView> { return this.call('GET', `/v1/hosts/${enc(name)}/drain`); }
  /** The answering host's NUMA nodes, hugepages, CPU, PCI devices and GPUs (`polyvisor host show`). */
  inventory(): Promise<HostInventoryView> { return this.call('GET', '/v1/host/inventory'); }
  /** Where the scheduler would place an existing VM, and why, host by host. */
  explain(vm: string): Promise<ScheduleExplainView> { return this.call('GET', `/v1/schedule/explain?vm=${enc(vm)}`); }
  /** The same for a spec not yet created (nothing is created). */
  explainSpec(spec: unknown): Promise<ScheduleExplainView> { return this.call('POST', '/v1/schedule/explain', { spec }); }
}
