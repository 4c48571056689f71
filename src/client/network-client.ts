/** Typed client of the virtual network routes (/v1/networks, issue 18). */
import type { LeaseView, NetworkCreateRequest, NetworkDetailView, NetworkView, VmNicView } from '../spec/index.js';
import { decode, request, type Endpoint } from './transport.js';

const enc = encodeURIComponent;

export interface NicAddBody { network: string; name?: string; model?: string; mac?: string; ip?: string; linkUp?: boolean }
export interface NicChangeResult { vm: string; nic: VmNicView; live: boolean }

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

  /** A VM's NICs with their addresses. */
  vmNics(vm: string): Promise<VmNicView[]> { return this.call('GET', `/v1/vms/${enc(vm)}/nics`); }
  /** Adds a NIC on a network (hot-plugged when the VM runs). */
  addVmNic(vm: string, r: NicAddBody): Promise<NicChangeResult> { return this.call('POST', `/v1/vms/${enc(vm)}/nics`, r); }
  setVmNicLink(vm: string, nic: string, linkUp: boolean): Promise<NicChangeResult> { return this.call('PATCH', `/v1/vms/${enc(vm)}/nics/${enc(nic)}`, { linkUp }); }
  removeVmNic(vm: string, nic: string): Promise<void> { return this.call('DELETE', `/v1/vms/${enc(vm)}/nics/${enc(nic)}`); }
}
