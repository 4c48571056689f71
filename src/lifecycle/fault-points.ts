/**
 * Test-only delay points, so a fault test can SIGKILL the daemon at an exact
 * step of a multi-step operation. Off unless the daemon's environment has
 * POLYVISOR_TEST_DELAYS="point=ms,point=ms" (e.g.
 * "external-create:after-spec=5000"); documented in docs/snapshots-backups.md.
 */
import { sleep } from '../shared/index.js';

const VAR = 'POLYVISOR_TEST_DELAYS';

export async function faultPoint(point: string): Promise<void> {
  const spec = process.env[VAR];
  if (!spec) return;
  for (const part of spec.split(',')) {
    const [name, ms] = part.split('=');
    if (name === point && Number(ms) > 0) await sleep(Math.min(Number(ms), 60_000));
  }
}
