/**
 * Endpoints: named connections to other hypervisors (libvirt, vSphere,
 * Proxmox VE), their VMs in one inventory with this daemon's own ("local"),
 * and actions on those VMs gated by the driver's capability matrix before
 * anything is sent. Adding an endpoint proves the connection first: a wrong
 * password, an unreachable URL or an untrusted certificate registers nothing.
 */
import type { Capability, DriverRegistry, EndpointSession, ForeignVm } from '../drivers/index.js';
import { fail, type Logger } from '../shared/index.js';
import {
  LOCAL_ENDPOINT, type DriverView, type EndpointStatusView, type EndpointView, type ForeignSnapshotView, type ForeignVmView,
  type InventoryView, type InventoryVmView, type MoveOutView,
} from '../spec/index.js';
import { checkEndpointInput, connectionOf, EndpointStore, viewOf, type EndpointInput, type EndpointRecord, type EndpointSecrets } from './endpoint-store.js';
import { ACTION_CAPABILITY, checkForeignName, runPower, type ForeignAction } from './foreign-actions.js';
import { errorRow, InventoryCache, rowOf } from './inventory.js';
import { SessionPool } from './sessions.js';
import { importForeignVm, type ImportContext, type ImportRequest, type ImportResult } from './import-vm.js';
import { moveToEndpoint, type MoveOutRequest } from './move-out.js';
import type { VmService } from '../lifecycle/index.js';

export interface EndpointServiceOptions {
  drivers: DriverRegistry;
  secrets: EndpointSecrets;
  /** This daemon's own VMs as inventory rows (endpoint "local"). */
  localRows: () => Promise<InventoryVmView[]>;
  logger: Logger;
  /** Endpoints without events are re-listed after this long (default 15 s). */
  pollMs?: number;
  /** One endpoint's listing may take this long before it is reported as an error (default 15 s). */
  listTimeoutMs?: number;
  /** Imports (move.toLocal) create local VMs here, staging downloads in `stagingDir`. */
  vms?: VmService;
  stagingDir?: string;
}

export class EndpointService {
  private readonly store: EndpointStore;
  private readonly pool: SessionPool;
  private readonly cache: InventoryCache;
  private readonly status = new Map<string, EndpointStatusView>();

  constructor(private readonly o: EndpointServiceOptions) {
    this.store = new EndpointStore(o.secrets);
    this.pool = new SessionPool(o.drivers, o.logger);
    this.cache = new InventoryCache({ pollMs: o.pollMs ?? 15_000, logger: o.logger });
  }

  drivers(): DriverView[] {
    return this.o.drivers.list().map((d) => ({ name: d.name, title: d.title, live: d.live, urlExample: d.urlExample, capabilities: { ...d.capabilities } }));
  }

  /** Registers an endpoint after proving the connection; nothing is kept when it fails. */
  async add(i: EndpointInput, signal: AbortSignal): Promise<EndpointView> {
    checkEndpointInput(i);
    const driver = this.o.drivers.get(i.driver);
    if (this.store.has(i.name)) fail('ENDPOINT_EXISTS', `an endpoint named ${i.name} exists`);
    const session = await driver.connect(connectionOf({ ...i, createdAt: '', updatedAt: '' }), signal);
    try {
      await this.probe(i.name, session, signal);
    } finally {
      await session.close().catch(() => undefined);
    }
    const rec = await this.store.save(i);
    return viewOf(rec, this.status.get(i.name) ?? null);
  }

  async list(): Promise<EndpointView[]> {
    return (await this.store.list()).map((r) => viewOf(r, this.status.get(r.name) ?? null));
  }

  async show(name: string): Promise<EndpointView> {
    const r = await this.store.get(name);
    return viewOf(r, this.status.get(name) ?? null);
  }

  /** Connects afresh and reads the endpoint's product, hosts and VM count; the status is kept, failures included. */
  async test(name: string, signal: AbortSignal): Promise<EndpointView> {
    const r = await this.store.get(name);
    await this.pool.drop(name);
    try {
      await this.pool.use(r, (s) => this.probe(name, s, signal), signal);
    } catch (err) {
      const e = errorRow(name, err);
      this.status.set(name, { reachable: false, product: null, version: null, hosts: [], vms: null, checkedAt: new Date().toISOString(), error: { code: e.code, message: e.message } });
    }
    return viewOf(r, this.status.get(name) ?? null);
  }

  async remove(name: string): Promise<void> {
    await this.store.get(name);
    await this.pool.drop(name);
    this.cache.forget(name);
    this.status.delete(name);
    await this.store.remove(name);
  }

  /** Every endpoint's VMs (or one endpoint's); `fresh` re-lists instead of using the cache. */
  async inventory(q: { endpoint?: string; fresh?: boolean } = {}): Promise<InventoryView> {
    const out: InventoryView = { vms: [], errors: [], stale: [] };
    if (!q.endpoint || q.endpoint === LOCAL_ENDPOINT) out.vms.push(...(await this.o.localRows()));
    if (q.endpoint === LOCAL_ENDPOINT) return out;
    const recs = q.endpoint ? [await this.store.get(q.endpoint)] : await this.store.list();
    const parts = await Promise.all(recs.map(async (r) => {
      const m = this.o.drivers.matrix(r.driver);
      const cached = q.fresh ? undefined : this.cache.fresh(r.name);
      if (cached) return { rows: cached.map((v) => rowOf(r.name, r.driver, m, v)) };
      try {
        const rows = await this.listEndpoint(r);
        return { rows: rows.map((v) => rowOf(r.name, r.driver, m, v)) };
      } catch (err) {
        const last = this.cache.last(r.name);
        return { rows: (last ?? []).map((v) => rowOf(r.name, r.driver, m, v)), error: errorRow(r.name, err), stale: last !== undefined };
      }
    }));
    for (const p of parts) {
      out.vms.push(...p.rows);
      if (p.error) out.errors.push(p.error);
      if (p.stale) out.stale.push(p.error!.endpoint);
    }
    return out;
  }

  async vm(endpoint: string, vm: string, signal: AbortSignal): Promise<ForeignVmView> {
    const r = await this.store.get(endpoint);
    checkForeignName(vm);
    const v = await this.pool.use(r, (s) => s.get(vm, signal), signal);
    return this.view(r, v);
  }

  /** start, stop, kill, pause, resume, suspend, reboot; refused before any call when the driver lacks it. */
  async act(endpoint: string, vm: string, action: ForeignAction, signal: AbortSignal): Promise<ForeignVmView> {
    return this.gated(endpoint, vm, ACTION_CAPABILITY[action], signal, async (s, r) => {
      await runPower(s, action, vm, signal);
      this.cache.touch(endpoint);
      return this.view(r, await s.get(vm, signal));
    });
  }

  async snapshots(endpoint: string, vm: string, signal: AbortSignal): Promise<ForeignSnapshotView[]> {
    return this.gated(endpoint, vm, 'snapshot.create', signal, (s) => s.snapshots!.list(vm, signal));
  }

  async snapshot(endpoint: string, vm: string, snap: { name: string; description?: string; memory: boolean }, signal: AbortSignal, onProgress?: (f: number) => void): Promise<ForeignSnapshotView[]> {
    checkForeignName(snap.name);
    const r = await this.store.get(endpoint);
    if (snap.memory) this.o.drivers.require(r.driver, 'snapshot.memory');
    return this.gated(endpoint, vm, 'snapshot.create', signal, async (s) => {
      await s.snapshots!.create(vm, snap, signal, onProgress);
      return s.snapshots!.list(vm, signal);
    });
  }

  async revert(endpoint: string, vm: string, snap: string, signal: AbortSignal, onProgress?: (f: number) => void): Promise<ForeignVmView> {
    checkForeignName(snap);
    return this.gated(endpoint, vm, 'snapshot.revert', signal, async (s, r) => {
      await s.snapshots!.revert(vm, snap, signal, onProgress);
      this.cache.touch(endpoint);
      return this.view(r, await s.get(vm, signal));
    });
  }

  async removeSnapshot(endpoint: string, vm: string, snap: string, signal: AbortSignal, onProgress?: (f: number) => void): Promise<void> {
    checkForeignName(snap);
    await this.gated(endpoint, vm, 'snapshot.delete', signal, (s) => s.snapshots!.remove(vm, snap, signal, onProgress));
  }

  /** Moves a VM to another host of the same endpoint (vMotion, virsh migrate, Proxmox migrate). */
  async migrate(endpoint: string, vm: string, host: string, signal: AbortSignal, onProgress?: (f: number) => void): Promise<ForeignVmView> {
    checkForeignName(host);
    return this.gated(endpoint, vm, 'migrate.live', signal, async (s, r) => {
      await s.migration!.migrate(vm, host, signal, onProgress);
      this.cache.touch(endpoint);
      return this.view(r, await s.get(vm, signal));
    });
  }

  async reconfigure(endpoint: string, vm: string, change: { cpus?: number; memoryBytes?: number }, signal: AbortSignal): Promise<ForeignVmView> {
    return this.gated(endpoint, vm, 'reconfigure', signal, async (s, r) => {
      await s.reconfigure!.setCpuMemory(vm, change, signal);
      this.cache.touch(endpoint);
      return this.view(r, await s.get(vm, signal));
    });
  }

  async clone(endpoint: string, vm: string, newName: string, signal: AbortSignal, onProgress?: (f: number) => void): Promise<ForeignVmView> {
    checkForeignName(newName);
    return this.gated(endpoint, vm, 'clone', signal, async (s, r) => {
      const v = await s.clone!.clone(vm, newName, signal, onProgress);
      this.cache.touch(endpoint);
      return this.view(r, v);
    });
  }

  /** Brings a stopped VM of the endpoint here as a local QEMU VM (import-vm.ts). */
  async importVm(endpoint: string, vm: string, req: ImportRequest, ctx: ImportContext): Promise<ImportResult> {
    checkForeignName(vm);
    if (!this.o.vms || !this.o.stagingDir) fail('CAPABILITY_NOT_SUPPORTED', 'this daemon was started without local VMs to import into');
    return importForeignVm({ endpoints: this, vms: this.o.vms, stagingDir: this.o.stagingDir }, endpoint, vm, req, ctx);
  }

  /** Moves a stopped local VM to the endpoint (move-out.ts). */
  async moveOut(name: string, endpoint: string, req: MoveOutRequest, ctx: ImportContext): Promise<MoveOutView> {
    if (!this.o.vms) fail('CAPABILITY_NOT_SUPPORTED', 'this daemon was started without local VMs to move');
    const r = await moveToEndpoint({ endpoints: this, vms: this.o.vms, logger: this.o.logger }, name, endpoint, req, ctx);
    this.cache.touch(endpoint);
    const rec = await this.store.get(endpoint);
    return { ...r, vm: this.view(rec, r.vm) };
  }

  /** The endpoint's session for work that spans services (imports); the capability is checked first. */
  async withSession<T>(endpoint: string, cap: Capability, signal: AbortSignal, fn: (s: EndpointSession, r: EndpointRecord) => Promise<T>): Promise<T> {
    const r = await this.store.get(endpoint);
    this.o.drivers.require(r.driver, cap);
    return this.pool.use(r, (s) => fn(s, r), signal);
  }

  async close(): Promise<void> {
    this.cache.closeAll();
    await this.pool.closeAll();
  }

  private async gated<T>(endpoint: string, vm: string, cap: Capability, signal: AbortSignal, fn: (s: EndpointSession, r: EndpointRecord) => Promise<T>): Promise<T> {
    checkForeignName(vm);
    return this.withSession(endpoint, cap, signal, fn);
  }

  private async listEndpoint(r: EndpointRecord): Promise<ForeignVm[]> {
    const signal = AbortSignal.timeout(this.o.listTimeoutMs ?? 15_000);
    return this.pool.use(r, async (s) => {
      const rows = await s.list(signal, { brief: true }); // rows need no disks or NICs (vSphere: a sixth of the answer)
      this.cache.store(r.name, rows, s);
      return rows;
    }, signal);
  }

  private async probe(name: string, s: EndpointSession, signal: AbortSignal): Promise<void> {
    const info = await s.info(signal);
    const vms = await s.list(signal);
    this.status.set(name, { reachable: true, product: info.product, version: info.version, hosts: info.hosts, vms: vms.length, checkedAt: new Date().toISOString(), error: null });
  }

  private view(r: EndpointRecord, v: ForeignVm): ForeignVmView {
    return { ...rowOf(r.name, r.driver, this.o.drivers.matrix(r.driver), v), guestOs: v.guestOs, firmware: v.firmware, disks: v.disks, nics: v.nics };
  }
}
