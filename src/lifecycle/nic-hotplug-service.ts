/**
 * NICs of VMs on virtual networks, changed in place (issue 18): add one
 * (hot-plugged when the VM runs: the host's tap first, then the driver's
 * NicHotplug), remove one (unplugged, then the tap and its rules go), set the
 * link state the guest sees, and list them with their addresses. Runs inside
 * VmService.exclusive() (the VM's job queue); the spec changes only once the
 * running VM has the change, and a failure halfway undoes what was done.
 */
import { canHotplugNics, type NicHotplug, type VmInstance } from '../drivers/index.js';
import { fail, timeoutSignal, validateName, type Logger } from '../shared/index.js';
import { networkSchema, problemsOf, type NetworkSpec, type VmNicView } from '../spec/index.js';
import type { VmRecord } from '../store/index.js';
import { guestInfoOf } from './guest-info.js';
import type { NetworkService } from './network-service.js';
import { nicMac, type NetworkNic } from './nic-attachments.js';
import { nicViews } from './nic-views.js';
import type { VmService } from './vm-service.js';

export interface NicAddRequest {
  network: string;
  /** Default: the first free of net0, net1… */
  name?: string;
  model?: string;
  mac?: string;
  ip?: string;
  linkUp?: boolean;
}

export interface NicChange {
  vm: string;
  nic: VmNicView;
  /** True when the running VM got the change at once (hot-plug, set_link); false: the spec alone changed. */
  live: boolean;
}

const LIVE = new Set(['running', 'paused']);
const SPEC_ONLY = new Set(['created', 'stopped', 'error']);
const HOTPLUG_MS = 60_000;
/** How long `vm show` waits for the guest agent's interfaces before showing the leases alone. */
const AGENT_MS = 2_000;
const MAX_NICS = 8;

export class NicService {
  private readonly log: Logger;

  constructor(private readonly o: { vms: VmService; networks: NetworkService; logger: Logger }) {
    this.log = o.logger.child({ component: 'nics' });
  }

  /** Adds a NIC on a virtual network; hot-plugged when the VM runs. */
  add(vm: string, req: NicAddRequest): Promise<NicChange> {
    return this.o.vms.exclusive(vm, async (rec, inst) => {
      const live = this.mode(rec);
      const nic = parseNic(rec, req);
      const mac = nicMac(rec, nic);
      const clash = rec.spec.networks.find((n) => n.name === nic.name || nicMac(rec, n) === mac);
      if (clash) fail('NIC_EXISTS', `VM ${vm} already has ${clash.name === nic.name ? `a NIC named ${nic.name}` : `MAC ${mac} on NIC ${clash.name}`}`);
      if (rec.spec.networks.length >= MAX_NICS) fail('SPEC_INVALID', `VM ${vm} already has ${MAX_NICS} NICs`);
      await this.o.networks.checkSpec({ ...rec.spec, networks: [nic] });
      const spec = { ...rec.spec, networks: [...rec.spec.networks, nic] };
      if (!live) {
        const out = await this.o.vms.saveSpec(rec, spec);
        this.log.info({ vm, nic: nic.name, network: nic.network }, 'NIC added (spec only)');
        return { vm, nic: await this.viewOf(out, nic.name), live };
      }
      const hot = this.hotplug(vm, inst);
      const tap = await this.o.networks.attachNic(rec, nic);
      let plugged = false;
      try {
        const mtu = (await this.o.networks.guestMtus({ ...rec.spec, networks: [nic] }))[nic.name];
        await hot.attachNic({ name: nic.name, tap, mac, model: nic.model, linkUp: nic.linkUp, ...(mtu !== undefined ? { mtu } : {}) }, timeoutSignal(HOTPLUG_MS));
        plugged = true;
        const out = await this.o.vms.saveSpec(rec, spec);
        this.log.info({ vm, nic: nic.name, network: nic.network, tap }, 'NIC hot-plugged');
        return { vm, nic: await this.viewOf(out, nic.name), live };
      } catch (err) {
        // Reverted: the device out of the guest, the tap and the address gone, the spec as it was.
        if (plugged) await hot.detachNic(nic.name, timeoutSignal(HOTPLUG_MS)).catch((e: unknown) => this.log.warn({ err: e, vm, nic: nic.name }, 'unplug after a failed add failed'));
        await this.o.networks.detachNic(vm, nic.name, { release: true }).catch((e: unknown) => this.log.warn({ err: e, vm, nic: nic.name }, 'tap removal after a failed add failed'));
        throw err;
      }
    });
  }

  /** Removes a NIC; unplugged first when the VM runs, then its tap, rules and address go. */
  remove(vm: string, name: string): Promise<VmRecord> {
    validateName(name, 'NIC name');
    return this.o.vms.exclusive(vm, async (rec, inst) => {
      const live = this.mode(rec);
      const nic = findNic(rec, name);
      if (live) await this.hotplug(vm, inst).detachNic(name, timeoutSignal(HOTPLUG_MS));
      const out = await this.o.vms.saveSpec(rec, { ...rec.spec, networks: rec.spec.networks.filter((n) => n.name !== name) });
      if (nic.type === 'network') await this.o.networks.detachNic(vm, name, { release: true });
      this.log.info({ vm, nic: name, live }, 'NIC removed');
      return out;
    });
  }

  /** The link state the guest sees (QMP set_link when it runs); kept in the spec. */
  setLink(vm: string, name: string, up: boolean): Promise<NicChange> {
    validateName(name, 'NIC name');
    return this.o.vms.exclusive(vm, async (rec, inst) => {
      const live = this.mode(rec);
      const nic = findNic(rec, name);
      if (nic.type !== 'network') fail('SPEC_INVALID', `NIC ${name} of ${vm} uses user-mode networking; link up/down is for NICs on a virtual network`, { details: [{ field: 'linkUp', message: 'network NICs only' }] });
      if (live) await this.hotplug(vm, inst).setNicLink(name, up, timeoutSignal(HOTPLUG_MS));
      const out = await this.o.vms.saveSpec(rec, { ...rec.spec, networks: rec.spec.networks.map((n) => (n.name === name ? { ...n, linkUp: up } : n)) });
      this.log.info({ vm, nic: name, linkUp: up, live }, 'NIC link set');
      return { vm, nic: await this.viewOf(out, name), live };
    });
  }

  /** The VM's NICs with the addresses its networks' leases and (when it answers soon) its guest agent give. Not queued. */
  async list(vm: string): Promise<VmNicView[]> {
    return this.viewsOf(await this.o.vms.get(vm), { agent: true });
  }

  async viewsOf(rec: VmRecord, o: { agent: boolean }): Promise<VmNicView[]> {
    const running = LIVE.has(rec.state);
    const networks = [...new Set(rec.spec.networks.filter((n) => n.type === 'network').map((n) => n.network!))];
    const leases = new Map(await Promise.all(networks.map(async (n) => [n, await this.o.networks.leases(n).catch(() => [])] as const)));
    const agent = o.agent && running && rec.spec.agent.enabled
      ? await guestInfoOf(this.o.vms, rec.name, timeoutSignal(AGENT_MS)).then((g) => g.interfaces, () => [])
      : [];
    return nicViews(rec, await this.o.networks.allocationsOf(rec.name), { leases, agent, attached: running || rec.state === 'migrating' });
  }

  private async viewOf(rec: VmRecord, name: string): Promise<VmNicView> {
    return (await this.viewsOf(rec, { agent: false })).find((n) => n.name === name)!;
  }

  /** True: the VM runs (change it live); false: spec only. Other states refuse. */
  private mode(rec: VmRecord): boolean {
    if (LIVE.has(rec.state)) return true;
    if (SPEC_ONLY.has(rec.state)) return false;
    fail('INVALID_TRANSITION', `VM ${rec.name} is ${rec.state}; NICs change while it is created, stopped, running or paused`);
  }

  private hotplug(vm: string, inst: VmInstance | undefined): NicHotplug {
    if (!canHotplugNics(inst)) fail('HOTPLUG_UNSUPPORTED', `the driver of ${vm} cannot change NICs while it runs`, { hint: 'Stop the VM (`polyvisor vm stop NAME`) and retry: the change is then made to its spec.' });
    return inst;
  }
}

function findNic(rec: VmRecord, name: string): NetworkSpec {
  const nic = rec.spec.networks.find((n) => n.name === name);
  if (!nic) fail('NIC_NOT_FOUND', `VM ${rec.name} has no NIC named ${name}`);
  return nic;
}

function parseNic(rec: VmRecord, req: NicAddRequest): NetworkNic {
  let name = req.name;
  if (name === undefined) {
    const used = new Set(rec.spec.networks.map((n) => n.name));
    for (let i = 0; name === undefined || used.has(name); i++) name = `net${i}`;
  }
  const r = networkSchema.safeParse({
    name, network: req.network,
    ...(req.model !== undefined ? { model: req.model } : {}),
    ...(req.mac !== undefined ? { mac: req.mac.toLowerCase() } : {}),
    ...(req.ip !== undefined ? { ip: req.ip } : {}),
    ...(req.linkUp !== undefined ? { linkUp: req.linkUp } : {}),
  });
  if (!r.success) {
    const p = problemsOf(r.error);
    fail('SPEC_INVALID', `invalid NIC: ${p.map((x) => `${x.field}: ${x.message}`).join('; ')}`, { details: p });
  }
  return r.data as NetworkNic;
}
