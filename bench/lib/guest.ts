/** The project's test guest (guest/build.sh): kernel, initrd, command line and ready line. */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Guest {
  dir: string;
  kernel: string;
  initrd: string;
  cmdline: string;
  readyLine: string;
  kernelVersion: string;
}

interface Manifest {
  cmdline: string;
  readyLine: string;
  kernelVersion?: string;
  files: { kernel: string; initrd: string };
}

/** $POLYVISOR_TEST_GUEST, else ~/.cache/polyvisor/guest/current (as guest/build.sh leaves it). */
export function loadGuest(): Guest {
  const given = process.env['POLYVISOR_TEST_GUEST'] ?? path.join(os.homedir(), '.cache', 'polyvisor', 'guest', 'current');
  const manifest = path.join(given, 'manifest.json');
  if (!existsSync(manifest)) throw new Error(`no test guest at ${given}: run bash guest/build.sh (or scripts/setup.sh)`);
  const dir = realpathSync(given);
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as Manifest;
  return {
    dir,
    kernel: path.join(dir, m.files.kernel),
    initrd: path.join(dir, m.files.initrd),
    cmdline: m.cmdline,
    readyLine: m.readyLine,
    kernelVersion: m.kernelVersion ?? '?',
  };
}
