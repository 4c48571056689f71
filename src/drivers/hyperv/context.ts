/**
 * What every part of a Hyper-V session shares: the hosts (the one addressed
 * and its peers), finding a VM by name or GUID on any of them, reading its
 * settings, and running a method to the end of its job.
 */
import { fail, PolyvisorError } from '../../shared/index.js';
import type { Progress } from '../endpoint.js';
import { str, type CimInstance } from './cim.js';
import { finish } from './jobs.js';
import { ownerOf, type VmFacts } from './map.js';
import type { Arg, Ref, WsmanClient } from './wsman.js';

export interface Timing {
  jobTimeoutMs: number;
  pollMs: number;
}

export const VM_WQL = 'SELECT * FROM Msvm_ComputerSystem WHERE Description = "Microsoft Virtual Machine"';
export const HOST_WQL = 'SELECT * FROM Msvm_ComputerSystem WHERE Description = "Microsoft Hosting Computer System"';
const GUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

export class HvHost {
  private readonly services = new Map<string, Ref>();

  constructor(readonly client: WsmanClient, readonly name: string) {}

  /** The host's one instance of a service class, as a reference. */
  async service(cls: string, signal: AbortSignal): Promise<Ref> {
    const had = this.services.get(cls);
    if (had) return had;
    const [s] = await this.client.query(`SELECT * FROM ${cls}`, signal);
    if (!s) throw new PolyvisorError('ENDPOINT_PROTOCOL', `${this.client.label} has no ${cls} (is the Hyper-V role installed?)`);
    const ref: Ref = { cls, keys: { CreationClassName: str(s, 'CreationClassName') ?? cls, Name: str(s, 'Name') ?? '', SystemCreationClassName: str(s, 'SystemCreationClassName') ?? 'Msvm_ComputerSystem', SystemName: str(s, 'SystemName') ?? this.name } };
    this.services.set(cls, ref);
    return ref;
  }
}

export const vmRef = (guid: string): Ref => ({ cls: 'Msvm_ComputerSystem', keys: { CreationClassName: 'Msvm_ComputerSystem', Name: guid } });

export interface Found {
  host: HvHost;
  system: CimInstance;
  guid: string;
}

export class HvContext {
  constructor(readonly endpoint: string, readonly hosts: HvHost[], readonly timing: Timing, readonly exportDirs: { remote: string | null; local: string | null }) {}

  get primary(): HvHost {
    return this.hosts[0]!;
  }

  host(name: string): HvHost | undefined {
    return this.hosts.find((h) => h.name.toLowerCase() === name.toLowerCase());
  }

  async systems(h: HvHost, signal: AbortSignal): Promise<CimInstance[]> {
    return h.client.query(VM_WQL, signal);
  }

  /** The one VM named `vm` (or with GUID `vm`) on any host: FOREIGN_VM_NOT_FOUND, or INVALID_ARGUMENT naming the GUIDs when the name is taken twice. */
  async find(vm: string, signal: AbortSignal): Promise<Found> {
    const all = await Promise.all(this.hosts.map(async (h) => (await this.systems(h, signal)).map((system) => ({ host: h, system, guid: (str(system, 'Name') ?? '').toUpperCase() }))));
    const flat = all.flat();
    const byGuid = GUID.test(vm);
    const hits = flat.filter((f) => (byGuid ? f.guid === vm.toUpperCase() : str(f.system, 'ElementName') === vm));
    if (hits.length === 0) fail('FOREIGN_VM_NOT_FOUND', `Hyper-V endpoint ${this.endpoint} has no VM ${byGuid ? `with GUID ${vm}` : `named "${vm}"`} (hosts ${this.hosts.map((h) => h.name).join(', ')})`);
    if (hits.length > 1) {
      throw new PolyvisorError('INVALID_ARGUMENT', `${hits.length} VMs are named "${vm}" on Hyper-V endpoint ${this.endpoint} (GUIDs ${hits.map((h) => h.guid).join(', ')})`, {
        hint: `Address one by its GUID instead of its name (${this.endpoint}/${hits[0]!.guid}), or rename one in Hyper-V Manager.`,
        details: { ids: hits.map((h) => h.guid) },
      });
    }
    return hits[0]!;
  }

  /** Settings of the VMs on `h` (every one, or only `guid`'s), grouped by VM GUID. */
  async facts(h: HvHost, systems: CimInstance[], signal: AbortSignal, o: { guid?: string; brief?: boolean } = {}): Promise<VmFacts[]> {
    const only = o.guid ? ` WHERE InstanceID LIKE "Microsoft:${o.guid}%"` : '';
    const q = (cls: string, where = only): Promise<CimInstance[]> => h.client.query(`SELECT * FROM ${cls}${where}`, signal);
    const realized = o.guid ? ` WHERE VirtualSystemType = "Microsoft:Hyper-V:System:Realized" AND InstanceID = "Microsoft:${o.guid}"` : ' WHERE VirtualSystemType = "Microsoft:Hyper-V:System:Realized"';
    const [settings, memory, processor] = await Promise.all([q('Msvm_VirtualSystemSettingData', realized), q('Msvm_MemorySettingData'), q('Msvm_ProcessorSettingData')]);
    const [rasd, storage, ports, connections, switches] = o.brief
      ? [[], [], [], [], []]
      : await Promise.all([q('Msvm_ResourceAllocationSettingData'), q('Msvm_StorageAllocationSettingData'), q('Msvm_SyntheticEthernetPortSettingData'), q('Msvm_EthernetPortAllocationSettingData'), q('Msvm_VirtualEthernetSwitch', '')]);
    const sw = new Map(switches.map((s) => [(str(s, 'Name') ?? '').toUpperCase(), str(s, 'ElementName') ?? '']));
    const mine = <T extends CimInstance>(list: T[], guid: string): T[] => list.filter((i) => ownerOf(str(i, 'InstanceID')) === guid);
    return systems.map((system) => {
      const guid = (str(system, 'Name') ?? '').toUpperCase();
      return {
        host: h.name, system, settings: mine(settings, guid)[0] ?? null, memory: mine(memory, guid)[0] ?? null, processor: mine(processor, guid)[0] ?? null,
        rasd: mine(rasd, guid), storage: mine(storage, guid), ports: mine(ports, guid), connections: mine(connections, guid), switches: sw,
      };
    });
  }

  async factsOf(vm: string, signal: AbortSignal): Promise<{ found: Found; facts: VmFacts }> {
    const found = await this.find(vm, signal);
    const [facts] = await this.facts(found.host, [found.system], signal, { guid: found.guid });
    return { found, facts: facts! };
  }

  /** Invokes a method and follows its job to the end. */
  async run(h: HvHost, target: Ref, method: string, args: Record<string, Arg | undefined>, what: string, signal: AbortSignal, onProgress?: Progress): Promise<void> {
    const r = await h.client.invoke(target, method, args, signal);
    await finish(h.client, r, what, signal, { timeoutMs: this.timing.jobTimeoutMs, pollMs: this.timing.pollMs, onProgress });
  }
}
