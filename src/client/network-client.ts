/** Typed client of the virtual network routes (/v1/networks, issue 18). */
import type { LeaseView, NetworkCreateRequest, NetworkDetailView, NetworkView } from '../spec/index.js';
import { decode, request, type Endpoint } from './transport.js';

const enc = encodeURIComponent;

export class NetworkClient {
  constructor(private readonly o: { endpoint: Endpoint; token?: string; timeoutMs?: number }) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return decode<T>(await request(this.o.endpoint, method, path, body, { ...(this.o.token ? { token: this.o.token } : {}), timeoutMs: this.o.timeoutMs ?? 120_000 }));
  }

  list(): Promise<NetworkView[]> { return this.call('GET', '/v1/networks'); }
  show(name: string): Promise<NetworkDetailView> { return this.call('GET', `/v1/networks/${enc(name)}`); }
  leases(name: string): Promise<LeaseView[]> { return this.call('GET', `/v1/networks/${enc(name)}/leases`); }
  create(r: NetworkCreateRequest): Promise<NetworkView> { return this.call('POST', '/v1/networks', r); }
  remove(name: string): Promise<void> { return this.call('DELETE', `/v1/networks/${enc(name)}`); }
}
