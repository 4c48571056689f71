/**
 * The neutral facts of a domain (ForeignVm fields) read from its XML as
 * libvirt prints it (`virsh dumpxml`): name, uuid, vCPUs, memory, firmware,
 * disks, NICs, the libosinfo guest OS, and the serial console's kind. Pure.
 */
import { XMLParser } from 'fast-xml-parser';
import { PolyvisorError } from '../../shared/index.js';
import type { ForeignDisk, ForeignNic, ForeignVm, ForeignVmState } from '../endpoint.js';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => ['disk', 'interface', 'serial', 'console', 'channel'].includes(name),
});

type Node = Record<string, unknown>;
const obj = (v: unknown): Node => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : {});
const arr = (v: unknown): Node[] => (Array.isArray(v) ? v.map(obj) : v === undefined ? [] : [obj(v)]);
const text = (v: unknown): string | null => {
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number') return String(v);
  const t = obj(v)['#text'];
  return typeof t === 'string' || typeof t === 'number' ? String(t).trim() : null;
};
const attr = (v: unknown, name: string): string | null => {
  const a = obj(v)[`@${name}`];
  return typeof a === 'string' ? a : null;
};

const UNIT: Record<string, number> = { b: 1, bytes: 1, k: 1024, kib: 1024, kb: 1000, m: 1024 ** 2, mib: 1024 ** 2, mb: 1e6, g: 1024 ** 3, gib: 1024 ** 3, gb: 1e9, t: 1024 ** 4, tib: 1024 ** 4 };

function bytesOf(v: unknown): number {
  const n = Number(text(v) ?? 0);
  const unit = (attr(v, 'unit') ?? 'KiB').toLowerCase();
  return Math.round(n * (UNIT[unit] ?? 1024));
}

export interface SerialFacts {
  kind: 'unix' | 'pty' | 'other' | 'none';
  /** The unix socket (bind mode: QEMU listens) or the pty device. */
  path: string | null;
}

export interface DomainFacts extends Omit<ForeignVm, 'state' | 'host'> {
  serial: SerialFacts;
  /** `<domain type=…>`: qemu (TCG) or kvm. */
  domainType: string;
}

function parseDomain(xml: string): Node {
  let doc: Node;
  try {
    doc = obj(parser.parse(xml));
  } catch (err) {
    throw new PolyvisorError('ENDPOINT_PROTOCOL', 'libvirt returned domain XML that does not parse', { cause: err });
  }
  const d = obj(doc['domain']);
  if (!text(d['name'])) throw new PolyvisorError('ENDPOINT_PROTOCOL', 'libvirt returned domain XML without a <name>');
  return d;
}

function disksOf(devices: Node): ForeignDisk[] {
  return arr(devices['disk'])
    .filter((x) => (attr(x, 'device') ?? 'disk') === 'disk')
    .map((x) => {
      const src = obj(x['source']);
      const location = attr(src, 'file') ?? attr(src, 'dev') ?? (attr(src, 'volume') ? `${attr(src, 'pool')}/${attr(src, 'volume')}` : null) ?? attr(src, 'name');
      return { name: attr(x['target'], 'dev') ?? '?', sizeBytes: null, location, format: attr(x['driver'], 'type') };
    });
}

function nicsOf(devices: Node): ForeignNic[] {
  return arr(devices['interface']).map((x) => {
    const type = attr(x, 'type');
    const src = obj(x['source']);
    const network = attr(src, 'network') ?? attr(src, 'bridge') ?? attr(src, 'dev') ?? (type === 'user' ? 'user' : type);
    return { mac: attr(x['mac'], 'address'), network, model: attr(x['model'], 'type') };
  });
}

function serialOf(devices: Node): SerialFacts {
  const s = arr(devices['serial'])[0] ?? arr(devices['console']).find((c) => attr(c['target'], 'type') !== 'virtio');
  if (!s) return { kind: 'none', path: null };
  const type = attr(s, 'type');
  const src = obj(s['source']);
  if (type === 'unix') return { kind: 'unix', path: attr(src, 'path') };
  if (type === 'pty') return { kind: 'pty', path: attr(src, 'path') ?? attr(s, 'tty') };
  return { kind: 'other', path: null };
}

function firmwareOf(d: Node): 'bios' | 'uefi' {
  const os = obj(d['os']);
  if (attr(os, 'firmware') === 'efi') return 'uefi';
  const loader = os['loader'];
  if (loader !== undefined && (attr(loader, 'type') === 'pflash' || /OVMF|edk2|\.fd$/i.test(text(loader) ?? ''))) return 'uefi';
  return 'bios';
}

function guestOsOf(d: Node): string | null {
  const info = obj(obj(d['metadata'])['libosinfo']);
  const id = attr(info['os'], 'id');
  return id ? id.replace(/^https?:\/\/[^/]+\//, '') : null;
}

export function domainFacts(xml: string): DomainFacts {
  const d = parseDomain(xml);
  const devices = obj(d['devices']);
  const vcpu = d['vcpu'];
  const current = attr(vcpu, 'current');
  return {
    id: text(d['uuid']) ?? '',
    name: text(d['name'])!,
    cpus: Number(current ?? text(vcpu) ?? 1),
    memoryBytes: bytesOf(d['memory']),
    guestOs: guestOsOf(d),
    firmware: firmwareOf(d),
    disks: disksOf(devices),
    nics: nicsOf(devices),
    serial: serialOf(devices),
    domainType: attr(d, 'type') ?? 'qemu',
  };
}

/** `virsh domstate --reason` ("running (booted)", "shut off (saved)") → the neutral state. */
export function stateOf(domstate: string): ForeignVmState {
  const s = domstate.trim().toLowerCase();
  if (s.startsWith('running') || s.startsWith('blocked') || s.startsWith('in shutdown')) return 'running';
  if (s.startsWith('paused')) return 'paused';
  if (s.startsWith('shut off (saved)') || s.startsWith('pmsuspended')) return 'suspended';
  if (s.startsWith('shut off') || s.startsWith('crashed')) return 'stopped';
  return 'unknown';
}

/** domstats' state.state (virDomainState) and state.reason → the neutral state. */
export function stateOfCode(state: number, reason: number): ForeignVmState {
  switch (state) {
    case 1: // running
    case 2: // blocked
    case 4: // shutting down
      return 'running';
    case 3:
      return 'paused';
    case 5: // shut off; reason 5 = saved (VIR_DOMAIN_SHUTOFF_SAVED: managed save)
      return reason === 5 ? 'suspended' : 'stopped';
    case 6: // crashed
      return 'stopped';
    case 7: // pmsuspended
      return 'suspended';
    default:
      return 'unknown';
  }
}
