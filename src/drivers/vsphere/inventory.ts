/**
 * The inventory through the PropertyCollector: every VM with the properties a
 * ForeignVm needs (and the host names) in one RetrievePropertiesEx over a
 * container view; datacenters, clusters, hosts and datastores for info().
 * VMs are addressed by name (vSphere's display name) or by their managed
 * object id (vm-42); names are resolved through a cache refreshed on a miss.
 */
import { PolyvisorError } from '../../shared/index.js';
import type { EndpointInfo, ForeignVm, ForeignVmState } from '../endpoint.js';
import { readDevices, skipUnmappedDevices } from './devices.js';
import { filterSpec, viewObjectSet, type ObjectProps, type Properties } from './property-collector.js';
import type { SoapClient } from './soap-client.js';
import { moRef, num, ref, text, type MoRef } from './soap-envelope.js';

export const VM_PATHS = [
  'name', 'runtime.powerState', 'runtime.host', 'config.hardware.numCPU', 'config.hardware.memoryMB',
  'config.guestId', 'config.firmware', 'config.hardware.device',
];

export interface VsphereInfo extends EndpointInfo {
  datacenters: string[];
  clusters: { name: string; hosts: string[] }[];
  datastores: { name: string; capacityBytes: number | null; freeBytes: number | null; url: string | null }[];
}

export function vmState(powerState: unknown): ForeignVmState {
  switch (text(powerState)) {
    case 'poweredOn': return 'running';
    case 'poweredOff': return 'stopped';
    case 'suspended': return 'suspended';
    default: return 'unknown';
  }
}

export function toForeignVm(o: ObjectProps, hostNames: Map<string, string>): ForeignVm {
  const p = o.props;
  const host = ref(p['runtime.host']);
  const dev = readDevices(p['config.hardware.device']);
  const fw = text(p['config.firmware']);
  return {
    id: o.obj.value,
    name: text(p.name) ?? o.obj.value,
    state: vmState(p['runtime.powerState']),
    cpus: num(p['config.hardware.numCPU']) ?? 0,
    memoryBytes: (num(p['config.hardware.memoryMB']) ?? 0) * 1024 * 1024,
    host: host ? (hostNames.get(host.value) ?? host.value) : null,
    guestOs: text(p['config.guestId']),
    firmware: fw === 'efi' ? 'uefi' : fw === 'bios' ? 'bios' : null,
    disks: dev.disks.map(({ name, sizeBytes, location, format }) => ({ name, sizeBytes, location, format })),
    nics: dev.nics.map(({ mac, network, model }) => ({ mac, network, model })),
  };
}

export class Inventory {
  /** VM name → managed object ids (a name may repeat across folders). */
  private names = new Map<string, string[]>();
  private hostIds = new Map<string, string>();

  constructor(
    private readonly soap: SoapClient,
    private readonly props: Properties,
  ) {}

  /** Every VM (templates included) in one round trip with the host names; `brief` leaves the device list (disks, NICs) out. */
  async list(signal: AbortSignal, brief = false): Promise<ForeignVm[]> {
    const paths = brief ? VM_PATHS.filter((p) => p !== 'config.hardware.device') : VM_PATHS;
    const got = await this.props.withView(['VirtualMachine', 'HostSystem'], signal, (view) => this.props.retrieve(
      filterSpec(viewObjectSet(view), [{ type: 'VirtualMachine', paths }, { type: 'HostSystem', paths: ['name'] }]),
      signal,
      undefined,
      { skip: skipUnmappedDevices },
    ));
    const hosts = new Map<string, string>();
    for (const o of got) if (o.obj.type === 'HostSystem') hosts.set(o.obj.value, text(o.props.name) ?? o.obj.value);
    this.rememberHosts(hosts);
    const vms = got.filter((o) => o.obj.type === 'VirtualMachine').map((o) => toForeignVm(o, hosts));
    this.names = new Map();
    for (const v of vms) this.names.set(v.name, [...(this.names.get(v.name) ?? []), v.id]);
    return vms;
  }

  /** The managed object of a VM named `vm` (or with id `vm`); FOREIGN_VM_NOT_FOUND when none. */
  async resolve(vm: string, signal: AbortSignal): Promise<MoRef> {
    let ids = this.names.get(vm);
    if (!ids) {
      const all = await this.props.all('VirtualMachine', ['name'], signal);
      this.names = new Map();
      for (const o of all) {
        const n = text(o.props.name) ?? o.obj.value;
        this.names.set(n, [...(this.names.get(n) ?? []), o.obj.value]);
      }
      ids = this.names.get(vm) ?? (all.some((o) => o.obj.value === vm) ? [vm] : undefined);
    }
    if (!ids) throw new PolyvisorError('FOREIGN_VM_NOT_FOUND', `no VM named "${vm}" on endpoint ${this.soap.transport.opts.label}`);
    if (ids.length > 1) {
      throw new PolyvisorError('INVALID_ARGUMENT', `${ids.length} VMs are named "${vm}" on endpoint ${this.soap.transport.opts.label}: address one by its id (${ids.join(', ')})`);
    }
    return moRef('VirtualMachine', ids[0]!);
  }

  /** Forgets a name (after a rename, clone or removal the next resolve re-reads). */
  forget(vm: string): void {
    this.names.delete(vm);
  }

  async get(vm: string, signal: AbortSignal): Promise<ForeignVm> {
    const obj = await this.resolve(vm, signal);
    let props: Record<string, unknown>;
    try {
      props = await this.props.one(obj, VM_PATHS, signal, vm, { skip: skipUnmappedDevices });
    } catch (err) {
      if (err instanceof PolyvisorError && err.code === 'FOREIGN_VM_NOT_FOUND') this.forget(vm);
      throw err;
    }
    const host = ref(props['runtime.host']);
    if (host && !this.hostIds.size) await this.hostNames(signal);
    const names = new Map([...this.hostIds].map(([n, id]) => [id, n]));
    return toForeignVm({ obj, props }, names);
  }

  private rememberHosts(idToName: Map<string, string>): void {
    this.hostIds = new Map([...idToName].map(([id, n]) => [n, id]));
  }

  /** Host name → managed object id. */
  async hostNames(signal: AbortSignal): Promise<Map<string, string>> {
    const all = await this.props.all('HostSystem', ['name'], signal);
    this.rememberHosts(new Map(all.map((o) => [o.obj.value, text(o.props.name) ?? o.obj.value])));
    return this.hostIds;
  }

  /** The HostSystem named `host`; INVALID_ARGUMENT naming the hosts when there is none. */
  async host(host: string, signal: AbortSignal): Promise<MoRef> {
    const ids = await this.hostNames(signal);
    const id = ids.get(host) ?? ([...ids.values()].includes(host) ? host : undefined);
    if (!id) throw new PolyvisorError('INVALID_ARGUMENT', `no host named "${host}" on endpoint ${this.soap.transport.opts.label} (hosts: ${[...ids.keys()].join(', ')})`);
    return moRef('HostSystem', id);
  }

  async info(signal: AbortSignal): Promise<VsphereInfo> {
    const got = await this.props.withView(['Datacenter', 'ClusterComputeResource', 'HostSystem', 'Datastore'], signal, (view) => this.props.retrieve(
      filterSpec(viewObjectSet(view), [
        { type: 'Datacenter', paths: ['name'] },
        { type: 'ClusterComputeResource', paths: ['name', 'host'] },
        { type: 'HostSystem', paths: ['name'] },
        { type: 'Datastore', paths: ['summary.name', 'summary.capacity', 'summary.freeSpace', 'summary.url'] },
      ]),
      signal,
    ));
    const of = (t: string): ObjectProps[] => got.filter((o) => o.obj.type === t);
    const hostName = new Map(of('HostSystem').map((o) => [o.obj.value, text(o.props.name) ?? o.obj.value]));
    this.rememberHosts(hostName);
    const c = this.soap.content;
    return {
      product: c.fullName,
      version: c.version,
      hosts: [...hostName.values()].sort(),
      datacenters: of('Datacenter').map((o) => text(o.props.name) ?? o.obj.value).sort(),
      clusters: of('ClusterComputeResource').map((o) => {
        const refs = o.props.host && typeof o.props.host === 'object' ? (o.props.host as Record<string, unknown>).ManagedObjectReference : undefined;
        const hs = (Array.isArray(refs) ? refs : refs ? [refs] : []).map((r) => text(r) ?? '');
        return { name: text(o.props.name) ?? o.obj.value, hosts: hs.map((h) => hostName.get(h) ?? h).sort() };
      }),
      datastores: of('Datastore').map((o) => ({
        name: text(o.props['summary.name']) ?? o.obj.value,
        capacityBytes: num(o.props['summary.capacity']),
        freeBytes: num(o.props['summary.freeSpace']),
        url: text(o.props['summary.url']),
      })),
    };
  }
}
