/**
 * Files of VMs that Polyvisor defines or clones on a libvirt host: one folder
 * per VM under the driver's diskRoot, with its disks, its serial socket (named
 * per host, so two daemons on one machine never bind the same path) and its
 * serial log. Disk copies go through qemu-img (argv, timeout, signal).
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { PolyvisorError, runChecked, safeJoin, validateName } from '../../shared/index.js';
import type { LibvirtHost } from './hosts.js';
import { LONG_TIMEOUT_MS } from './virsh.js';

export function vmDir(diskRoot: string, vm: string): string {
  return safeJoin(diskRoot, validateName(vm, 'VM name'));
}

export const serialSocketIn = (dir: string, host: LibvirtHost): string => path.join(dir, `serial-${host.key}.sock`);
export const serialLogIn = (dir: string): string => path.join(dir, 'serial.log');

/** Makes the VM's folder; refuses one that exists (another VM's files). Returns an undo. */
export async function makeVmDir(dir: string): Promise<() => Promise<void>> {
  await mkdir(path.dirname(dir), { recursive: true, mode: 0o755 });
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new PolyvisorError('VM_EXISTS', `${dir} already exists: another VM's files are there`, { cause: err });
    throw err;
  }
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}

/** A full copy of a disk image in the same format (qemu-img convert; no backing chain left behind). */
export async function copyDisk(src: string, dst: string, format: string, signal: AbortSignal): Promise<void> {
  if (!/^[a-z0-9]+$/.test(format)) throw new PolyvisorError('FORMAT_UNSUPPORTED', `disk format "${format}" of ${src}`);
  await runChecked('qemu-img', ['convert', '-f', format, '-O', format, '--', src, dst], { timeoutMs: LONG_TIMEOUT_MS, signal, failCode: 'DISK_CREATE_FAILED', missingCode: 'QEMU_IMG_MISSING' });
}
