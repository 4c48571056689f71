/**
 * What every part of a Proxmox session shares: the client, finding a VM by
 * name (or by its id "node/vmid" when two VMs share a name), reading one VM,
 * and following the tasks Proxmox starts.
 */
import { fail, PolyvisorError } from '../../shared/index.js';
import type { ForeignVm, Progress } from '../endpoint.js';
import type { PveClient } from './client.js';
import { qemuRows, toForeignVm, vmId, type PveConfig, type ResourceRow } from './map.js';
import { followTask } from './tasks.js';

export interface Timing {
  taskTimeoutMs: number;
  pollMs: number;
}

const ID = /^([A-Za-z0-9][A-Za-z0-9-]*)\/(\d+)$/;

export class PveContext {
  constructor(readonly client: PveClient, readonly timing: Timing) {}

  get endpoint(): string {
    return this.client.endpoint;
  }

  async rows(signal: AbortSignal): Promise<ResourceRow[]> {
    const data = await this.client.get('/cluster/resources', { type: 'vm' }, signal);
    if (!Array.isArray(data)) fail('ENDPOINT_PROTOCOL', `Proxmox endpoint ${this.endpoint} answered /cluster/resources with something other than a list`);
    return qemuRows(data);
  }

  /** The one VM called `vm` (or with id "node/vmid"): FOREIGN_VM_NOT_FOUND, or INVALID_ARGUMENT naming the vmids when the name is taken twice. */
  async resolve(vm: string, signal: AbortSignal): Promise<ResourceRow> {
    const rows = await this.rows(signal);
    const id = ID.exec(vm);
    const hits = id ? rows.filter((r) => r.node === id[1] && r.vmid === Number(id[2])) : rows.filter((r) => r.name === vm);
    if (hits.length === 0) fail('FOREIGN_VM_NOT_FOUND', `Proxmox endpoint ${this.endpoint} has no VM ${id ? `with id ${vm}` : `named "${vm}"`}`);
    if (hits.length > 1) {
      const ids = hits.map((r) => vmId(r.node, r.vmid));
      throw new PolyvisorError('INVALID_ARGUMENT', `${hits.length} VMs are named "${vm}" on Proxmox endpoint ${this.endpoint} (vmids ${hits.map((r) => r.vmid).join(', ')}: ${ids.join(', ')})`, {
        hint: `Address one by its id instead of its name (${this.endpoint}/${ids[0]}), or give each a unique name in Proxmox.`,
        details: { ids },
      });
    }
    return hits[0]!;
  }

  path(r: Pick<ResourceRow, 'node' | 'vmid'>, rest = ''): string {
    return `/nodes/${encodeURIComponent(r.node)}/qemu/${r.vmid}${rest}`;
  }

  async config(r: ResourceRow, signal: AbortSignal): Promise<PveConfig> {
    const c = await this.client.get(this.path(r, '/config'), {}, signal);
    if (!c || typeof c !== 'object') fail('ENDPOINT_PROTOCOL', `Proxmox endpoint ${this.endpoint} answered the config of ${r.vmid} with something other than an object`);
    return c as PveConfig;
  }

  /** The VM with its run state from status/current (which knows paused from running). */
  async describe(r: ResourceRow, signal: AbortSignal): Promise<ForeignVm> {
    const [conf, cur] = await Promise.all([
      this.config(r, signal),
      this.client.get(this.path(r, '/status/current'), {}, signal) as Promise<{ status?: string; qmpstatus?: string; lock?: string } | null>,
    ]);
    return toForeignVm({ ...r, status: cur?.status ?? r.status, lock: cur?.lock ?? r.lock }, conf, cur?.qmpstatus);
  }

  async get(vm: string, signal: AbortSignal): Promise<ForeignVm> {
    return this.describe(await this.resolve(vm, signal), signal);
  }

  follow(upid: unknown, what: string, signal: AbortSignal, onProgress?: Progress): Promise<void> {
    return followTask(this.client, upid, what, signal, { timeoutMs: this.timing.taskTimeoutMs, pollMs: this.timing.pollMs, onProgress });
  }

  /** POSTs an action that starts a task and follows the task to its end. */
  async run(r: ResourceRow, rest: string, params: Record<string, string | number | undefined>, what: string, signal: AbortSignal, onProgress?: Progress): Promise<void> {
    const upid = await this.client.post(this.path(r, rest), params, signal);
    await this.follow(upid, what, signal, onProgress);
  }
}
