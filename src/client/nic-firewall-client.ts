/** Typed client of a VM NIC's firewall (/v1/vms/NAME/nics/NIC/firewall, issue 18). */
import type { NicFirewallInput, NicFirewallView } from '../spec/index.js';
import { decode, request, type Endpoint } from './transport.js';

const enc = encodeURIComponent;

export class NicFirewallClient {
  constructor(private readonly o: { endpoint: Endpoint; token?: string; timeoutMs?: number }) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return decode<T>(await request(this.o.endpoint, method, path, body, { ...(this.o.token ? { token: this.o.token } : {}), timeoutMs: this.o.timeoutMs ?? 60_000 }));
  }

  get(vm: string, nic: string): Promise<NicFirewallView> {
    return this.call('GET', `/v1/vms/${enc(vm)}/nics/${enc(nic)}/firewall`);
  }

  /** Replaces the whole firewall (null removes it); a running VM gets it at once. */
  set(vm: string, nic: string, firewall: NicFirewallInput | null): Promise<NicFirewallView> {
    return this.call('PUT', `/v1/vms/${enc(vm)}/nics/${enc(nic)}/firewall`, { firewall });
  }
}
