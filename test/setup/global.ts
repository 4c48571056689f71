/** Once per integration run: the test guest and the compiled daemon must exist. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { testGuest } from '../helpers/guest.js';

export default function setup(): void {
  const root = path.resolve(import.meta.dirname, '..', '..');
  if (!existsSync(path.join(root, 'dist', 'daemon', 'main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (scripts/test.sh does)');
  }
  const g = testGuest(true);
  process.env['POLYVISOR_TEST_GUEST'] = g.dir;
}
