/**
 * Test-only hold points, so a fault test can SIGKILL the daemon at an exact
 * step of a multi-step operation, or act while the daemon waits there. Off
 * unless the daemon's environment has POLYVISOR_TEST_DELAYS="point=V,…":
 * V is milliseconds to sleep (at most 60 s; e.g.
 * "external-create:after-spec=5000"), or `file:/ABSOLUTE/PATH` to wait until
 * the test creates that file (at most 10 min), a hold that does not depend on
 * how fast the host is. Documented in docs/snapshots-backups.md.
 */
import { existsSync } from 'node:fs';
import { sleep, waitFor } from '../shared/index.js';

const VAR = 'POLYVISOR_TEST_DELAYS';
const MAX_SLEEP_MS = 60_000;
const MAX_GATE_MS = 600_000;

export async function faultPoint(point: string): Promise<void> {
  const spec = process.env[VAR];
  if (!spec) return;
  for (const part of spec.split(',')) {
    const at = part.indexOf('=');
    if (at < 0 || part.slice(0, at) !== point) continue;
    const value = part.slice(at + 1);
    if (value.startsWith('file:/')) await gate(value.slice('file:'.length));
    else if (Number(value) > 0) await sleep(Math.min(Number(value), MAX_SLEEP_MS));
  }
}

/** Until `file` exists, bounded: a test that died without opening the gate does not hold the daemon for ever. */
async function gate(file: string): Promise<void> {
  await waitFor(`test gate ${file}`, () => (existsSync(file) ? true : undefined), { signal: AbortSignal.timeout(MAX_GATE_MS) }).catch(() => undefined);
}
