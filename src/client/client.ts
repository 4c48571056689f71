/** Typed REST client of polyvisord. The CLI and web UI talk to the daemon only through it. */
import { createRequire } from 'node:module';
import type WebSocket from 'ws';
import type { GuestInfoView, HealthView, OperationView, ResizeBody, ResizeView, VmView } from '../spec/index.js';
import { decode, request, webSocketTarget, type Endpoint } from './transport.js';

export type VmActionName = 'start' | 'stop' | 'kill' | 'pause' | 'resume' | 'reboot' | 'suspend';

export interface ClientOptions {
  endpoint: Endpoint;
  token?: string;
  timeoutMs?: number;
}

export class PolyvisorClient {
  constructor(private readonly o: ClientOptions) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const opts = { ...(this.o.token ? { token: this.o.token } : {}), ...(this.o.timeoutMs ? { timeoutMs: this.o.timeoutMs } : {}) };
    return decode<T>(await request(this.o.endpoint, method, path, body, opts));
  }

  health(): Promise<HealthView> {
    return this.call('GET', '/v1/health');
  }

  specSchema(): Promise<Record<string, unknown>> {
    return this.call('GET', '/v1/spec/schema');
  }

  /** This host's VMs, or with `allHosts` every cluster host's. */
  listVms(opts: { labels?: Record<string, string>; allHosts?: boolean } = {}): Promise<VmView[]> {
    const sel = Object.entries(opts.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    const q = [...(sel ? [`label=${encodeURIComponent(sel)}`] : []), ...(opts.allHosts ? ['hosts=all'] : [])];
    return this.call('GET', q.length ? `/v1/vms?${q.join('&')}` : '/v1/vms');
  }

  getVm(name: string): Promise<VmView> {
    return this.call('GET', `/v1/vms/${encodeURIComponent(name)}`);
  }

  /**
   * Sends a spec document (already parsed from YAML/JSON); the daemon validates it. `host`: "auto" (the
   * cluster's scheduler places it) or a host's name; the answer's `host` says where it was created.
   */
  createVm(spec: unknown, o: { host?: string } = {}): Promise<VmView> {
    return this.call('POST', '/v1/vms', { spec, ...(o.host !== undefined ? { host: o.host } : {}) });
  }

  /**
   * Starts a clone of a stopped VM as an operation (its result is a CloneView):
   * disks copied, read-only images shared; `spec` edits the clone's configuration.
   */
  cloneVmAsync(source: string, name: string, spec?: unknown): Promise<OperationView> {
    return this.call('POST', `/v1/vms/${encodeURIComponent(source)}/clone?async=true`, { name, ...(spec !== undefined ? { spec } : {}) });
  }

  removeVm(name: string, opts: { force?: boolean } = {}): Promise<void> {
    return this.call('DELETE', `/v1/vms/${encodeURIComponent(name)}${opts.force ? '?force=true' : ''}`);
  }

  action(name: string, action: VmActionName, body: Record<string, unknown> = {}): Promise<VmView> {
    return this.call('POST', `/v1/vms/${encodeURIComponent(name)}/${action}`, body);
  }

  /** vCPUs, memory or balloon target of a VM (hot-plugged when it runs). */
  resizeVm(name: string, body: ResizeBody): Promise<ResizeView> {
    return this.call('POST', `/v1/vms/${encodeURIComponent(name)}/resize`, body);
  }

  /** The last `bytes` of the VM's serial console log. */
  serialLog(name: string, bytes = 65536): Promise<string> {
    return this.call('GET', `/v1/vms/${encodeURIComponent(name)}/serial-log?bytes=${bytes}`);
  }

  /** What the running guest says about itself through its agent (heartbeat, version, OS, hostname, addresses, filesystems, clock). */
  guestInfo(name: string): Promise<GuestInfoView> {
    return this.call('GET', `/v1/vms/${encodeURIComponent(name)}/guest`);
  }

  /** Opens the VM's serial console as a WebSocket (binary frames both ways). */
  openConsole(name: string): WebSocket {
    return this.openSocket(`/v1/vms/${encodeURIComponent(name)}/console`);
  }

  /** Opens the VM's VNC display (RFB, for noVNC) as a WebSocket: binary frames both ways. */
  openVnc(name: string): WebSocket {
    return this.openSocket(`/v1/vms/${encodeURIComponent(name)}/vnc`);
  }

  private openSocket(path: string): WebSocket {
    const t = webSocketTarget(this.o.endpoint, path);
    return new (loadWs())(t.url, { ...t.options, headers: this.o.token ? { authorization: `Bearer ${this.o.token}` } : {} } as WebSocket.ClientOptions);
  }
}

/** `ws` is loaded on first use only, so commands without a WebSocket start faster. */
let wsCtor: typeof WebSocket | undefined;
function loadWs(): typeof WebSocket {
  wsCtor ??= createRequire(import.meta.url)('ws') as typeof WebSocket;
  return wsCtor;
}
