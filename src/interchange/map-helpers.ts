/**
 * Small mappings every reader and writer of src/interchange shares: names,
 * MAC addresses, disk file formats by extension, device models (kept when
 * QEMU emulates them, virtio with --virtio), and the warning list. Pure.
 */
import { isValidName } from '../shared/index.js';
import type { DiskFileFormat, MappingWarning } from './types.js';

/** Collects the warnings of one read or write, each naming its source. */
export class Warnings {
  readonly list: MappingWarning[] = [];
  add(source: string, message: string): void {
    this.list.push({ source, message });
  }
}

/** A valid spec name from a foreign one: other characters become "-", cut to 63; `fallback` when nothing is left. */
export function specNameOf(raw: string, fallback: string): string {
  const n = raw.trim().replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63).replace(/[.-]+$/, '');
  return isValidName(n) ? n : fallback;
}

/** The VM name: the --name given, else the source's made valid (a warning when it changed). */
export function importName(raw: string | undefined, given: string | undefined, w: Warnings, source: string): string {
  if (given !== undefined) return given;
  const name = specNameOf(raw ?? '', 'imported');
  if (name !== (raw ?? '')) w.add(source, `the name ${JSON.stringify(raw ?? '')} becomes ${name}`);
  return name;
}

/** 00155D0A0B0C, 00-15-5d-0a-0b-0c, 00:15:5D:0A:0B:0C → 00:15:5d:0a:0b:0c; undefined when it is not a MAC or is all zeros. */
export function macOf(raw: string | undefined): string | undefined {
  const hex = (raw ?? '').replace(/[-:.\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]{12}$/.test(hex) || /^0+$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}

/** A MAC as Hyper-V writes it: 00155D0A0B0C. */
export const macHyperv = (mac: string): string => mac.replace(/:/g, '').toUpperCase();

const EXTENSIONS: Record<string, DiskFileFormat> = {
  qcow2: 'qcow2', qcow: 'qcow2', raw: 'raw', img: 'raw', iso: 'raw', vmdk: 'vmdk', vhdx: 'vhdx', avhdx: 'vhdx', vhd: 'vpc', avhd: 'vpc', vdi: 'vdi',
};

/** The image format a file name suggests (raw when the extension says nothing). */
export function diskFormatOfFile(file: string): DiskFileFormat {
  const ext = /\.([A-Za-z0-9]+)$/.exec(file)?.[1]?.toLowerCase() ?? '';
  return EXTENSIONS[ext] ?? 'raw';
}

/** The last path component of a Windows or POSIX path. */
export const baseName = (p: string): string => p.split(/[\\/]/).pop() ?? p;

/** Bytes → the spec's memory text ("2Gi", "1536Mi", "262084Ki"). */
export function memoryText(bytes: number): string {
  if (bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3}Gi`;
  if (bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2}Mi`;
  return `${Math.ceil(bytes / 1024)}Ki`;
}

/** QEMU's NIC models that the spec names; everything else maps through nicModelFor. */
export type SpecNicModel = 'virtio' | 'e1000' | 'e1000e' | 'vmxnet3' | 'rtl8139';

/**
 * A foreign NIC model → the spec's. Emulated models QEMU has are kept (the
 * guest's own driver still works) unless --virtio; models QEMU lacks become
 * `fallback` with a warning.
 */
export function nicModelFor(foreign: string, o: { virtio?: boolean }, w: Warnings, source: string, fallback: SpecNicModel = 'e1000'): SpecNicModel {
  const f = foreign.toLowerCase();
  const known: Record<string, SpecNicModel> = { virtio: 'virtio', 'virtio-net': 'virtio', 'virtio-net-pci': 'virtio', e1000: 'e1000', 'e1000-82545em': 'e1000', e1000e: 'e1000e', vmxnet3: 'vmxnet3', rtl8139: 'rtl8139' };
  const mapped = known[f];
  if (o.virtio === true) {
    if (mapped !== 'virtio') w.add(source, `NIC model ${foreign} becomes virtio (--virtio): the guest needs virtio-net drivers`);
    return 'virtio';
  }
  if (mapped !== undefined) return mapped;
  w.add(source, `NIC model ${foreign} has no QEMU equivalent here: it becomes ${fallback}`);
  return fallback;
}

/** Bytes of a size with an optional binary suffix (K, M, G, T; KB/MB/GB/TB as PowerShell means them), or undefined. */
export function bytesOf(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)B?\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]) * 1024 ** ' KMGT'.indexOf((m[2] ?? '').toUpperCase() || ' ');
  return Number.isSafeInteger(Math.round(n)) ? Math.round(n) : undefined;
}
