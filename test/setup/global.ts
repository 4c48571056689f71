/**
 * Once per integration run: the test guest and the compiled daemon must exist,
 * and the guest's boot time is measured (test/helpers/limits.ts scales waits by it).
 * Afterwards the daemons' state directories the run made are removed
 * (POLYVISOR_TEST_KEEP=1 keeps them for a look).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { STATE_DIR_LIST } from '../helpers/daemon.js';
import { publishForConfinedQemu, testGuest } from '../helpers/guest.js';
import { REFERENCE_BOOT_MS } from '../helpers/limits.js';
import { calibrateBoot } from './calibrate.js';

export default async function setup(): Promise<() => void> {
  const root = path.resolve(import.meta.dirname, '..', '..');
  if (!existsSync(path.join(root, 'dist', 'daemon', 'main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (scripts/test.sh does)');
  }
  // The daemons get the guest from a folder any QEMU user can pass (qemuUser: per-vm): the cache under /root is closed.
  const g = publishForConfinedQemu(testGuest(true));
  process.env['POLYVISOR_TEST_GUEST'] = g.dir;
  const bootMs = await calibrateBoot(g);
  process.env['POLYVISOR_TEST_BOOT_MS'] = String(bootMs);
  console.log(`calibration: the test guest boots in ${bootMs} ms (reference ${REFERENCE_BOOT_MS} ms): guest waits x${Math.max(1, bootMs / REFERENCE_BOOT_MS).toFixed(2)}`);
  const listDir = mkdtempSync(path.join(os.tmpdir(), 'pv-run-'));
  const list = path.join(listDir, 'state-dirs');
  process.env[STATE_DIR_LIST] = list;
  return () => {
    if (process.env['POLYVISOR_TEST_KEEP'] !== '1') {
      const dirs = existsSync(list) ? readFileSync(list, 'utf8').split('\n').filter((d) => d.startsWith('/tmp/pv-')) : [];
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
    rmSync(listDir, { recursive: true, force: true });
  };
}
