/**
 * What an import's mapped spec says, as rows a person reads before
 * confirming: CPUs, memory, firmware, machine, disks (bus, size or file,
 * whether the file was found) and NICs (model, MAC). Pure: the spec comes as
 * the API answered it (a dry run's spec may not validate yet, so every field
 * is read defensively).
 */
import type { FileImportView } from './types.js';

export interface MappedDisk { name: string; media: string; bus: string; format: string; source: string; found: boolean | null }
export interface MappedNic { name: string; model: string; mac: string }
export interface Mapping {
  name: string;
  cpu: string;
  memory: string;
  firmware: string;
  machine: string;
  video: string;
  os: string;
  scsiController: string;
  disks: MappedDisk[];
  nics: MappedNic[];
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Obj : {});
const str = (v: unknown, dflt = ''): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : dflt);

/** A size as the spec holds it: bytes as a number, or text like "512Mi" kept as written. */
export function sizeText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let n = v;
  while (n >= 1024 && n % 1024 === 0 && i < units.length - 1) { n /= 1024; i++; }
  return `${n} ${units[i]}`;
}

function cpuText(c: Obj): string {
  const count = typeof c['count'] === 'number' ? c['count'] : 1;
  const s = c['sockets'], k = c['cores'], t = c['threads'];
  const topo = typeof s === 'number' && typeof k === 'number' ? ` (${s} socket${s === 1 ? '' : 's'} × ${k} core${k === 1 ? '' : 's'}${typeof t === 'number' && t > 1 ? ` × ${t} threads` : ''})` : '';
  return `${count}${topo}`;
}

export function mappingOf(view: Pick<FileImportView, 'spec' | 'disks'>): Mapping {
  const s = view.spec;
  const boot = obj(s['boot']);
  const os = obj(s['os']);
  const found = new Map(view.disks.map((d) => [d.name, d]));
  const disks = (Array.isArray(s['disks']) ? s['disks'] : []).map((x): MappedDisk => {
    const d = obj(x);
    const name = str(d['name'], '?');
    const f = found.get(name);
    const source = f ? f.file : d['path'] !== undefined ? str(d['path']) : `new empty disk, ${sizeText(d['size'])}`;
    return { name, media: str(d['media'], 'disk'), bus: str(d['bus'], 'virtio'), format: str(d['format'], 'qcow2'), source, found: f ? f.found : null };
  });
  const nics = (Array.isArray(s['networks']) ? s['networks'] : []).map((x): MappedNic => {
    const n = obj(x);
    return { name: str(n['name'], '?'), model: str(n['model'], 'virtio'), mac: str(n['mac'], 'generated on create') };
  });
  const firmware = str(boot['firmware'], 'bios');
  return {
    name: str(s['name'], '?'),
    cpu: cpuText(obj(s['cpu'])),
    memory: sizeText(s['memory']),
    firmware: firmware === 'uefi' ? `UEFI${boot['secureBoot'] === true ? ' with secure boot' : ''}` : 'BIOS',
    machine: str(obj(s['machine'])['type'], 'q35'),
    video: str(obj(s['display'])['video'], 'default'),
    os: [str(os['type']), str(os['variant'])].filter(Boolean).join(' · ') || '—',
    scsiController: str(s['scsiController'], '—'),
    disks,
    nics,
  };
}
