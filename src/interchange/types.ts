/**
 * The interchange contract: every foreign VM format (OVF/OVA, VMX, VirtualBox,
 * Hyper-V, libvirt XML, Proxmox, XVA) has a pure reader (descriptor text → an
 * ImportPlan) and a pure writer (spec + disk facts → files). Readers and
 * writers never touch the file system or run a process; the orchestration
 * (finding disk files, verifying manifests, converting disks with qemu-img,
 * creating the VM) lives in interchange/import-files.ts / export-files.ts and
 * the services that call them.
 *
 * Every source field that does not map is a MappingWarning naming where it came
 * from (an element path like `VirtualHardwareSection/Item[InstanceID=7]`, a key
 * like `ethernet0.virtualDev`), so `--strict` can turn them into errors and the
 * UI can show them before the user confirms.
 */
import type { VmSpec, VmSpecInput } from '../spec/index.js';

export const INTERCHANGE_FORMATS = ['ova', 'ovf', 'vmx', 'vbox', 'hyperv', 'libvirt', 'proxmox', 'xva'] as const;
export type InterchangeFormat = (typeof INTERCHANGE_FORMATS)[number];

/** Disk image formats qemu-img reads and writes, as qemu-img names them. */
export type DiskFileFormat = 'qcow2' | 'raw' | 'vmdk' | 'vhdx' | 'vpc' | 'vdi';

export interface MappingWarning {
  /** Where in the source it came from: an element path or a config key. */
  source: string;
  /** What was not carried over, or was changed, and why. */
  message: string;
}

/** A disk the descriptor names. `file` is as the descriptor wrote it (relative to the descriptor's directory unless absolute). */
export interface ImportedDisk {
  /** The spec disk this becomes (its `name` in `plan.spec.disks`). */
  name: string;
  file: string;
  format: DiskFileFormat;
  /** Virtual size in bytes when the descriptor says it. */
  capacity?: number;
  /** VMDK sub-format when known (streamOptimized, monolithicSparse, twoGbMaxExtentSparse, monolithicFlat, vmfs…). */
  variant?: string;
}

/** Manifest entries of an OVF/OVA (`.mf`) or SHA256SUMS: file name → hex digest. */
export interface ManifestEntry {
  file: string;
  algorithm: 'sha1' | 'sha256' | 'sha512';
  digest: string;
}

export interface ImportPlan {
  format: InterchangeFormat;
  /**
   * The mapped VM spec, ready for validation. Its disks carry `path` set to the
   * ImportedDisk's `file` as a placeholder; the import step replaces it with the
   * converted image's path. CD-ROMs whose ISO is not carried have no disk entry
   * (a warning says so).
   */
  spec: VmSpecInput;
  disks: ImportedDisk[];
  warnings: MappingWarning[];
}

export interface ReadOptions {
  /** The VM name to use instead of the source's. */
  name?: string;
  /** Switch emulated device models (e1000, vmxnet3, lsilogic, pvscsi, ide, ahci…) to virtio. */
  virtio?: boolean;
}

/** A pure reader: one descriptor's text → a plan. Throws a catalogue error (INTERCHANGE_INVALID) on input it cannot read. */
export type Reader = (text: string, options: ReadOptions) => ImportPlan;

/** What a writer knows about each disk of the VM it exports. */
export interface ExportDisk {
  /** The spec disk's name. */
  name: string;
  /** The file name the disk will have in the output directory (no directory part). */
  file: string;
  format: DiskFileFormat;
  /** Virtual size in bytes. */
  capacity: number;
  /** Bytes of the file written, when known (OVF's ovf:size). */
  fileSize?: number;
}

export interface ExportInput {
  spec: VmSpec;
  disks: ExportDisk[];
}

export interface ExportedFile {
  /** File name in the output directory (no directory part). */
  name: string;
  content: string;
}

export interface ExportResult {
  files: ExportedFile[];
  warnings: MappingWarning[];
}

/** A pure writer: the spec and its disks' facts → descriptor files. */
export type Writer = (input: ExportInput) => ExportResult;

/** The disk format each export target expects. */
export const EXPORT_DISK_FORMAT: Record<Exclude<InterchangeFormat, 'xva'>, { format: DiskFileFormat; variant?: string }> = {
  ova: { format: 'vmdk', variant: 'streamOptimized' },
  ovf: { format: 'vmdk', variant: 'streamOptimized' },
  vmx: { format: 'vmdk', variant: 'monolithicSparse' },
  vbox: { format: 'vdi' },
  hyperv: { format: 'vhdx' },
  libvirt: { format: 'qcow2' },
  proxmox: { format: 'qcow2' },
};
