/** Typed client of endpoints (other hypervisors), drivers, the inventory and foreign VMs (/v1/endpoints, /v1/drivers, /v1/inventory). */
import type { DriverView, EndpointAddRequest, EndpointView, ForeignSnapshotView, ForeignVmView, InventoryView, OperationView } from '../spec/index.js';

export interface ImportRequestBody { name?: string; shutdown?: boolean; start?: boolean }
import { decode, request, type Endpoint } from './transport.js';

export interface EndpointClientOptions {
  endpoint: Endpoint;
  token?: string;
  timeoutMs?: number;
}

export type { EndpointAddRequest } from '../spec/index.js';

export type ForeignActionName = 'start' | 'stop' | 'kill' | 'pause' | 'resume' | 'suspend' | 'reboot';

const enc = encodeURIComponent;
const vmPath = (endpoint: string, vm: string): string => `/v1/endpoints/${enc(endpoint)}/vms/${enc(vm)}`;

export class EndpointClient {
  constructor(private readonly o: EndpointClientOptions) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const opts = { ...(this.o.token ? { token: this.o.token } : {}), timeoutMs: this.o.timeoutMs ?? 30 * 60_000 };
    return decode<T>(await request(this.o.endpoint, method, path, body, opts));
  }

  drivers(): Promise<DriverView[]> { return this.call('GET', '/v1/drivers'); }
  list(): Promise<EndpointView[]> { return this.call('GET', '/v1/endpoints'); }
  show(name: string): Promise<EndpointView> { return this.call('GET', `/v1/endpoints/${enc(name)}`); }
  add(req: EndpointAddRequest): Promise<EndpointView> { return this.call('POST', '/v1/endpoints', req); }
  test(name: string): Promise<EndpointView> { return this.call('POST', `/v1/endpoints/${enc(name)}/test`, {}); }
  remove(name: string): Promise<void> { return this.call('DELETE', `/v1/endpoints/${enc(name)}`); }

  inventory(q: { endpoint?: string; fresh?: boolean } = {}): Promise<InventoryView> {
    const p = new URLSearchParams();
    if (q.endpoint) p.set('endpoint', q.endpoint);
    if (q.fresh) p.set('fresh', 'true');
    const s = p.toString();
    return this.call('GET', `/v1/inventory${s ? `?${s}` : ''}`);
  }

  vm(endpoint: string, vm: string): Promise<ForeignVmView> { return this.call('GET', vmPath(endpoint, vm)); }
  action(endpoint: string, vm: string, action: ForeignActionName): Promise<ForeignVmView> { return this.call('POST', `${vmPath(endpoint, vm)}/${action}`, {}); }
  actionAsync(endpoint: string, vm: string, action: ForeignActionName): Promise<OperationView> { return this.call('POST', `${vmPath(endpoint, vm)}/${action}?async=true`, {}); }
  snapshots(endpoint: string, vm: string): Promise<ForeignSnapshotView[]> { return this.call('GET', `${vmPath(endpoint, vm)}/snapshots`); }
  snapshot(endpoint: string, vm: string, s: { name: string; description?: string; memory?: boolean }): Promise<ForeignSnapshotView[]> { return this.call('POST', `${vmPath(endpoint, vm)}/snapshots`, s); }
  revert(endpoint: string, vm: string, snap: string): Promise<ForeignVmView> { return this.call('POST', `${vmPath(endpoint, vm)}/snapshots/${enc(snap)}/revert`, {}); }
  removeSnapshot(endpoint: string, vm: string, snap: string): Promise<void> { return this.call('DELETE', `${vmPath(endpoint, vm)}/snapshots/${enc(snap)}`); }
  migrate(endpoint: string, vm: string, host: string): Promise<ForeignVmView> { return this.call('POST', `${vmPath(endpoint, vm)}/migrate`, { host }); }
  reconfigure(endpoint: string, vm: string, change: { cpus?: number; memory?: string | number }): Promise<ForeignVmView> { return this.call('POST', `${vmPath(endpoint, vm)}/reconfigure`, change); }
  /** Starts an import (move.toLocal) as an operation; its result is an ImportView. */
  importAsync(endpoint: string, vm: string, req: ImportRequestBody = {}): Promise<OperationView> { return this.call('POST', `${vmPath(endpoint, vm)}/import?async=true`, req); }
  /** Moves a stopped local VM to an endpoint, as an operation; its result is a MoveOutView. */
  moveAsync(vm: string, to: { endpoint: string; start?: boolean; keep?: boolean }): Promise<OperationView> { return this.call('POST', `/v1/vms/${enc(vm)}/move?async=true`, to); }
  clone(endpoint: string, vm: string, name: string): Promise<ForeignVmView> { return this.call('POST', `${vmPath(endpoint, vm)}/clone`, { name }); }
}
