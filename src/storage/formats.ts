/**
 * Every disk format Polyvisor reads and writes, and how qemu-img spells it.
 * `vmdk` is VMware's monolithicSparse (one growable file), `vmdk-stream` its
 * streamOptimized (compressed, for OVA), `vpc` a dynamic VHD (Hyper-V gen 1,
 * Azure); `force_size` keeps a VHD's size exact instead of CHS-rounded.
 */
import { fail } from '../shared/index.js';

export const DISK_FORMATS = ['qcow2', 'raw', 'vdi', 'vhdx', 'vmdk', 'vmdk-stream', 'vpc'] as const;
export type DiskFormat = (typeof DISK_FORMATS)[number];

export interface FormatTraits {
  /** qemu-img's format name (-f / -O). */
  qemu: string;
  /** -o creation options. */
  options: readonly string[];
  /** What an exported file's name ends with. */
  suffix: string;
  /** `qemu-img check` can verify this format. */
  checkable: boolean;
}

export const FORMAT_TRAITS: Readonly<Record<DiskFormat, FormatTraits>> = {
  qcow2: { qemu: 'qcow2', options: [], suffix: '.qcow2', checkable: true },
  raw: { qemu: 'raw', options: [], suffix: '.raw', checkable: false },
  vdi: { qemu: 'vdi', options: [], suffix: '.vdi', checkable: true },
  vhdx: { qemu: 'vhdx', options: [], suffix: '.vhdx', checkable: true },
  vmdk: { qemu: 'vmdk', options: ['subformat=monolithicSparse'], suffix: '.vmdk', checkable: true },
  'vmdk-stream': { qemu: 'vmdk', options: ['subformat=streamOptimized'], suffix: '-stream.vmdk', checkable: true },
  vpc: { qemu: 'vpc', options: ['subformat=dynamic', 'force_size=on'], suffix: '.vhd', checkable: false },
};

/** qemu-img format names we accept as input (what `qemu-img info` reports). */
export const READABLE_FORMATS: readonly string[] = ['qcow2', 'raw', 'vdi', 'vhdx', 'vmdk', 'vpc'];

export function isDiskFormat(v: unknown): v is DiskFormat {
  return typeof v === 'string' && (DISK_FORMATS as readonly string[]).includes(v);
}

export function toDiskFormat(v: unknown, what = 'format'): DiskFormat {
  if (!isDiskFormat(v)) fail('FORMAT_UNSUPPORTED', `${what} ${JSON.stringify(v)} is not one of ${DISK_FORMATS.join(', ')}`);
  return v;
}

/** Parses "vdi,vhdx,vmdk" into distinct formats, in order. */
export function parseFormatList(text: string | readonly string[]): DiskFormat[] {
  const items = (typeof text === 'string' ? text.split(',') : text.flatMap((t) => t.split(','))).map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) fail('INVALID_ARGUMENT', `give at least one format of ${DISK_FORMATS.join(', ')}`);
  return [...new Set(items.map((i) => toDiskFormat(i)))];
}
