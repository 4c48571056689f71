/** Typed client of the hosts routes (/v1/hosts, issue 19). */
import type { DrainView, HostView } from '../spec/index.js';
import { decode, request, type Endpoint } from './transport.js';

const enc = encodeURIComponent;

export class HostClient {
  constructor(private readonly o: { endpoint: Endpoint; token?: string; timeoutMs?: number }) {}

  private async call<T>(method: string, path: string): Promise<T> {
    return decode<T>(await request(this.o.endpoint, method, path, undefined, { ...(this.o.token ? { token: this.o.token } : {}), timeoutMs: this.o.timeoutMs ?? 60_000 }));
  }

  list(): Promise<HostView[]> { return this.call('GET', '/v1/hosts'); }
  cordon(name: string): Promise<void> { return this.call('POST', `/v1/hosts/${enc(name)}/cordon`); }
  uncordon(name: string): Promise<void> { return this.call('POST', `/v1/hosts/${enc(name)}/uncordon`); }
  drain(name: string): Promise<DrainView> { return this.call('POST', `/v1/hosts/${enc(name)}/drain`); }
  drainStatus(name: string): Promise<DrainView> { return this.call('GET', `/v1/hosts/${enc(name)}/drain`); }
}
