/**
 * What every part of a connected XCP-ng session shares: the client, the
 * timing, and reading the pool — VMs (templates, control domains and
 * snapshots left out), a VM by name or UUID (FOREIGN_VM_NOT_FOUND, or
 * INVALID_ARGUMENT when two VMs share the name: XAPI allows it), the
 * records a VM's devices point at, and Async.* calls followed through
 * their task.
 */
import { fail } from '../../shared/index.js';
import type { Progress } from '../endpoint.js';
import type { XapiClient } from './client.js';
import { int, NULL_REF, type NamedRecord, type Ref, type VbdRecord, type VdiRecord, type VifRecord, type VmRecord } from './records.js';
import { followTask } from './tasks.js';

export interface Timing {
  taskTimeoutMs: number;
  pollMs: number;
}

/** The records a VM's description needs, read once per listing. */
export interface PoolRecords {
  vbds: Record<Ref, VbdRecord>;
  vdis: Record<Ref, VdiRecord>;
  vifs: Record<Ref, VifRecord>;
  networks: Record<Ref, NamedRecord>;
  srs: Record<Ref, NamedRecord>;
  hosts: Record<Ref, NamedRecord>;
  guestOs: Record<Ref, string>;
}

export const isGuest = (r: VmRecord): boolean => !r.is_a_template && !r.is_control_domain && !r.is_a_snapshot;

export class XcpContext {
  constructor(readonly client: XapiClient, readonly timing: Timing) {}

  get endpoint(): string {
    return this.client.endpoint;
  }

  async allVms(signal: AbortSignal): Promise<Record<Ref, VmRecord>> {
    return (await this.client.call('VM.get_all_records', [], signal, 'listing VMs')) as Record<Ref, VmRecord>;
  }

  /** The VM named `vm` (its name_label, or its UUID). */
  async resolve(vm: string, signal: AbortSignal): Promise<{ ref: Ref; rec: VmRecord }> {
    const all = Object.entries(await this.allVms(signal)).filter(([, r]) => isGuest(r));
    const byUuid = all.find(([, r]) => r.uuid === vm);
    if (byUuid) return { ref: byUuid[0], rec: byUuid[1] };
    const hits = all.filter(([, r]) => r.name_label === vm);
    if (hits.length === 0) fail('FOREIGN_VM_NOT_FOUND', `XCP-ng endpoint ${this.endpoint} has no VM named ${vm}`);
    if (hits.length > 1) fail('INVALID_ARGUMENT', `XCP-ng endpoint ${this.endpoint} has ${hits.length} VMs named ${vm} (UUIDs ${hits.map(([, r]) => r.uuid).join(', ')}): name one by its UUID`);
    return { ref: hits[0]![0], rec: hits[0]![1] };
  }

  async records(signal: AbortSignal): Promise<PoolRecords> {
    const get = (cls: string): Promise<Record<Ref, unknown>> => this.client.call(`${cls}.get_all_records`, [], signal, 'reading the pool') as Promise<Record<Ref, unknown>>;
    const [vbds, vdis, vifs, networks, srs, hosts, gm] = await Promise.all(['VBD', 'VDI', 'VIF', 'network', 'SR', 'host', 'VM_guest_metrics'].map(get));
    const guestOs: Record<Ref, string> = {};
    for (const [ref, g] of Object.entries(gm as Record<Ref, { os_version?: Record<string, string> }>)) {
      const name = g.os_version?.['name'];
      if (name) guestOs[ref] = name.split('|')[0]!;
    }
    return { vbds, vdis, vifs, networks, srs, hosts, guestOs } as PoolRecords;
  }

  /** A host of the pool by its name; INVALID_ARGUMENT naming the hosts there are. */
  async host(name: string, signal: AbortSignal): Promise<Ref> {
    const hosts = (await this.client.call('host.get_all_records', [], signal, 'reading hosts')) as Record<Ref, NamedRecord>;
    const hit = Object.entries(hosts).find(([, h]) => h.name_label === name || h.uuid === name);
    if (!hit) fail('INVALID_ARGUMENT', `XCP-ng endpoint ${this.endpoint} has no host ${name} (hosts: ${Object.values(hosts).map((h) => h.name_label).sort().join(', ')})`);
    return hit[0];
  }

  /** Async.`method` followed through its task; the task's result (a ref, or ""). */
  async run(method: string, args: unknown[], what: string, signal: AbortSignal, onProgress?: Progress): Promise<string> {
    const task = await this.client.call(`Async.${method}`, args, signal, what);
    return followTask(this.client, task, what, signal, { timeoutMs: this.timing.taskTimeoutMs, pollMs: this.timing.pollMs, onProgress });
  }

  hostName(recs: PoolRecords, ref: Ref): string | null {
    return ref && ref !== NULL_REF ? recs.hosts[ref]?.name_label ?? null : null;
  }
}

export { int, NULL_REF };
