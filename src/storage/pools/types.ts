/**
 * What a storage pool is, whatever backs it. A directory pool comes first;
 * LVM-thin and ZFS pools implement the same PoolBackend (volumes become
 * logical volumes / zvols, `path` their device node).
 */
import type { QemuImgOptions } from '../qemu-img-run.js';

export const POOL_KINDS = ['dir'] as const;
export type PoolKind = (typeof POOL_KINDS)[number];

/** Formats a pool volume can have (what a VM spec disk accepts). */
export type VolumeFormat = 'qcow2' | 'raw';
export const VOLUME_FORMATS: readonly VolumeFormat[] = ['qcow2', 'raw'];

/** What is persisted about a pool. */
export interface PoolConfig {
  name: string;
  kind: PoolKind;
  /** dir: the directory holding the volume files. */
  path: string;
}

export interface PoolSpace {
  /** Size of the filesystem (or VG / zpool) holding the pool. */
  capacityBytes: number;
  /** Bytes an unprivileged writer may still use. */
  freeBytes: number;
  /** capacity - free: everything used on that filesystem, not only by the pool. */
  usedBytes: number;
}

export interface PoolView extends PoolConfig, PoolSpace {
  default: boolean;
  volumes: number;
  /** Host bytes allocated by the pool's volumes. */
  allocatedBytes: number;
}

/** A volume as its backend names it. */
export interface VolumeRef {
  pool: string;
  name: string;
  format: VolumeFormat;
  /** What a VM spec disk's `path` is set to. */
  path: string;
}

export interface VolumeView extends VolumeRef {
  virtualSize: number;
  actualSize: number | null;
  /** Linked clones: the base image this volume reads through to. */
  backingFile: string | null;
}

export interface VolumeOpOptions extends QemuImgOptions {
  onProgress?: (fraction: number) => void;
}

export interface PoolBackend {
  readonly config: PoolConfig;
  /** Creates what the pool needs (the directory). Idempotent. */
  init(): Promise<void>;
  space(): Promise<PoolSpace>;
  list(): Promise<VolumeRef[]>;
  find(name: string): Promise<VolumeRef | undefined>;
  info(ref: VolumeRef): Promise<VolumeView>;
  create(name: string, format: VolumeFormat, sizeBytes: number, opts?: VolumeOpOptions): Promise<VolumeRef>;
  resize(ref: VolumeRef, sizeBytes: number, opts?: VolumeOpOptions): Promise<void>;
  /** Full copy (any format, converted) or, when `linked`, a qcow2 overlay on `src`. */
  clone(src: VolumeRef, name: string, o: VolumeOpOptions & { linked: boolean; format?: VolumeFormat }): Promise<VolumeRef>;
  /** Converts any readable image file into a new volume. */
  importFile(file: string, sourceFormat: string, name: string, format: VolumeFormat, opts?: VolumeOpOptions): Promise<VolumeRef>;
  remove(ref: VolumeRef): Promise<void>;
}
