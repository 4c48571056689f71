/** The project's test guest (guest/build.sh): kernel, initrd, command line and ready line. */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { publishedCopy } from '../../test/helpers/publish.js';

export interface Guest {
  dir: string;
  kernel: string;
  initrd: string;
  cmdline: string;
  readyLine: string;
  kernelVersion: string;
}

interface Manifest {
  key: string;
  cmdline: string;
  readyLine: string;
  kernelVersion?: string;
  files: { kernel: string; initrd: string };
}

/**
 * $POLYVISOR_TEST_GUEST, else ~/.cache/polyvisor/guest/current (as guest/build.sh leaves it); for a root run its
 * published copy (test/helpers/publish.ts): a root daemon's QEMUs run as their VMs' own users and cannot read the
 * cache under /root. Every method of a bench (raw QEMU, libvirt, Polyvisor) boots the same files.
 */
export function loadGuest(): Guest {
  const given = process.env['POLYVISOR_TEST_GUEST'] ?? path.join(os.homedir(), '.cache', 'polyvisor', 'guest', 'current');
  const manifest = path.join(given, 'manifest.json');
  if (!existsSync(manifest)) throw new Error(`no test guest at ${given}: run bash guest/build.sh (or scripts/setup.sh)`);
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as Manifest & { files: Record<string, string> };
  const dir = publishedCopy('guest', realpathSync(given), m.key, [...Object.values(m.files), 'manifest.json']);
  return {
    dir,
    kernel: path.join(dir, m.files.kernel),
    initrd: path.join(dir, m.files.initrd),
    cmdline: m.cmdline,
    readyLine: m.readyLine,
    kernelVersion: m.kernelVersion ?? '?',
  };
}
