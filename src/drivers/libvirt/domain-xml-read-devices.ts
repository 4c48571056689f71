/**
 * libvirt <devices> other than disks → the spec's NICs, serial, agent and
 * display (the adopt direction). Every NIC becomes user-mode networking (the
 * only kind the spec has); devices the spec has no field for are listed as
 * lossy, devices libvirt adds by itself (controllers, PS/2 input, the
 * balloon…) are passed over quietly. Pure.
 */
import type { VmSpecInput } from '../../spec/index.js';
import { AGENT_CHANNEL } from './domain-xml-devices.js';
import { nameOfAlias } from './domain-xml-disks.js';
import { child, intOf, kids, unknownChildren, type XNode } from './domain-xml-parse.js';
import { fits, specName } from './domain-xml-read-fit.js';

type NetInput = NonNullable<VmSpecInput['networks']>[number];
type Forward = NonNullable<NetInput['portForwards']>[number];

export interface DevicesRead {
  networks: NetInput[];
  /** Boot orders of NICs that have one, by NIC name (network boot). */
  netOrders: Map<string, number>;
  serial: boolean;
  agent: boolean;
  vnc: boolean;
}

/** Device kinds handled elsewhere or carrying nothing the spec lacks. */
const QUIET = ['disk', 'emulator', 'controller', 'input', 'memballoon', 'audio', 'video', 'console', 'serial', 'channel', 'graphics', 'interface'];
const NIC_QUIET = ['mac', 'source', 'model', 'target', 'alias', 'address', 'boot', 'rom', 'backend', 'portForward', 'driver', 'guest', 'acpi'];
const NIC_MODELS: Record<string, NetInput['model']> = { virtio: 'virtio', 'virtio-transitional': 'virtio', 'virtio-non-transitional': 'virtio', e1000: 'e1000', e1000e: 'e1000e', vmxnet3: 'vmxnet3', rtl8139: 'rtl8139' };
const MAX_NICS = 8;
const MAX_FORWARDS = 64;
const LOCAL = ['127.0.0.1', 'localhost', '::1'];

export function readDevices(devices: XNode | undefined, lossy: string[], ours: boolean): DevicesRead {
  const out: DevicesRead = { networks: [], netOrders: new Map(), serial: false, agent: false, vnc: false };
  readInterfaces(kids(devices, 'interface'), out, lossy, ours);
  const serials = kids(devices, 'serial');
  out.serial = serials.length > 0;
  if (serials.length > 1) lossy.push(`${serials.length - 1} serial port(s) after the first are not kept`);
  for (const c of kids(devices, 'console')) {
    const t = child(c, 'target')?.attrs['type'];
    // A serial console (a console's default target on x86) with no <serial> beside it: libvirt adds the serial port
    // itself (virt-install and virt-v2v write just `<console type='pty'/>`).
    if (t === undefined || t === 'serial') out.serial = true;
    else lossy.push(`a ${t} console is not kept (the spec has the serial console)`);
  }
  for (const ch of kids(devices, 'channel')) {
    const name = child(ch, 'target')?.attrs['name'];
    if (name === AGENT_CHANNEL) out.agent = true;
    else lossy.push(`channel ${name ?? ch.attrs['type'] ?? '?'} is not kept`);
  }
  readGraphics(devices, out, lossy);
  for (const d of devices?.children ?? []) {
    if (QUIET.includes(d.name)) continue;
    lossy.push(describeOther(d));
  }
  return out;
}

function readInterfaces(nics: XNode[], out: DevicesRead, lossy: string[], ours: boolean): void {
  const names = new Set<string>();
  for (const n of nics) {
    const mac = child(n, 'mac')?.attrs['address']?.toLowerCase();
    const what = `interface ${mac ?? out.networks.length}`;
    if (out.networks.length >= MAX_NICS) {
      lossy.push(`${what} is not kept: a spec has at most ${MAX_NICS} NICs`);
      continue;
    }
    const type = n.attrs['type'] ?? 'user';
    if (type !== 'user') lossy.push(`${what}: ${sourceOf(type, child(n, 'source'))} becomes user-mode networking`);
    const modelAttr = child(n, 'model')?.attrs['type'];
    const model = NIC_MODELS[modelAttr ?? ''] ?? 'e1000';
    if (NIC_MODELS[modelAttr ?? ''] === undefined) lossy.push(`${what}: model ${modelAttr ?? '(default)'} becomes e1000`);
    const fromAlias = nameOfAlias(child(n, 'alias')?.attrs['name'], ours);
    let name = fromAlias !== undefined && fits({ networks: [{ name: fromAlias }] }) ? fromAlias : `net${out.networks.length}`;
    if (names.has(name)) name = specName(`net${out.networks.length}`, `nic${out.networks.length}`);
    names.add(name);
    const order = intOf(child(n, 'boot')?.attrs['order']);
    if (order !== undefined) out.netOrders.set(name, order);
    if (child(n, 'link')?.attrs['state'] === 'down') lossy.push(`${what}: link state down is not kept`);
    for (const c of unknownChildren(n, [...NIC_QUIET, 'link'])) lossy.push(`${what}: <${c}> is not kept`);
    const portForwards = type === 'user' ? readForwards(n, what, lossy) : [];
    const macOk = mac !== undefined && fits({ networks: [{ name: 'n', mac }] });
    if (mac !== undefined && !macOk) lossy.push(`${what}: MAC ${mac} is not a unicast MAC the spec takes; a new one is made`);
    out.networks.push({ name, type: 'user', model, ...(macOk ? { mac } : {}), portForwards });
  }
}

function sourceOf(type: string, source: XNode | undefined): string {
  const s = source?.attrs ?? {};
  const where = s['network'] ?? s['bridge'] ?? s['dev'] ?? s['path'];
  return where === undefined ? `a ${type} interface` : `${type} ${where}`;
}

/** passt's <portForward> ranges → spec port forwards (IPv4 and single ports or short ranges). */
function readForwards(n: XNode, what: string, lossy: string[]): Forward[] {
  const out: Forward[] = [];
  for (const pf of kids(n, 'portForward')) {
    const protocol = pf.attrs['proto'] === 'udp' ? 'udp' : 'tcp';
    const hostAddress = pf.attrs['address'] ?? '0.0.0.0';
    if (!fits({ networks: [{ name: 'n', portForwards: [{ hostAddress, hostPort: 1, guestPort: 1 }] }] })) {
      lossy.push(`${what}: port forwards on ${hostAddress} are not kept (the spec forwards IPv4 addresses)`);
      continue;
    }
    for (const r of kids(pf, 'range')) {
      const start = intOf(r.attrs['start']);
      const end = intOf(r.attrs['end']) ?? start;
      const to = intOf(r.attrs['to']) ?? start;
      if (start === undefined || end === undefined || to === undefined || r.attrs['exclude'] === 'yes') {
        lossy.push(`${what}: a port forward exclusion or unreadable range is not kept`);
        continue;
      }
      for (let p = start; p <= end; p++) {
        if (out.length >= MAX_FORWARDS) {
          lossy.push(`${what}: port forwards past ${MAX_FORWARDS} are not kept`);
          return out;
        }
        out.push({ protocol, hostAddress, hostPort: p, guestPort: to + (p - start) });
      }
    }
  }
  return out;
}

function readGraphics(devices: XNode | undefined, out: DevicesRead, lossy: string[]): void {
  for (const g of kids(devices, 'graphics')) {
    const type = g.attrs['type'] ?? '?';
    if (out.vnc) {
      lossy.push(`a second display (${type}) is not kept`);
      continue;
    }
    if (type !== 'vnc' && type !== 'spice') {
      lossy.push(`the ${type} display is not kept`);
      continue;
    }
    out.vnc = true;
    if (type === 'spice') lossy.push('the SPICE display becomes VNC');
    const listens = [g.attrs['listen'], ...kids(g, 'listen').map((l) => l.attrs['address'])].filter((a): a is string => a !== undefined);
    const open = listens.find((a) => !LOCAL.includes(a));
    if (open !== undefined) lossy.push(`the display listened on ${open}; Polyvisor's VNC listens on a unix socket or 127.0.0.1 only`);
    if (g.attrs['passwd'] !== undefined) lossy.push('the display password is not kept (Polyvisor reaches VNC through its authenticated console proxy)');
  }
  const video = child(child(devices, 'video'), 'model')?.attrs['type'];
  if (out.vnc && video !== undefined && video !== 'vga' && video !== 'none') lossy.push(`video model ${video} becomes VGA`);
}

function describeOther(d: XNode): string {
  if (d.name === 'hostdev') {
    const a = child(child(d, 'source'), 'address')?.attrs ?? {};
    const pci = a['bus'] === undefined ? undefined : [a['domain'] ?? '0x0000', a['bus'], a['slot'], a['function']].map((x) => (x ?? '0').replace(/^0x/, ''));
    const where = pci ? `PCI passthrough ${pci[0]!.padStart(4, '0')}:${pci[1]!.padStart(2, '0')}:${pci[2]!.padStart(2, '0')}.${pci[3]}` : `${d.attrs['type'] ?? ''} passthrough`.trim();
    return `<hostdev> ${where} is not kept`;
  }
  const model = d.attrs['model'] ?? child(d, 'model')?.attrs['type'] ?? d.attrs['type'];
  return `<${d.name}>${model === undefined ? '' : ` (${model})`} is not kept`;
}
