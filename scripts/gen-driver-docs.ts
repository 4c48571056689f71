/** Writes docs/drivers.md from the daemon's driver registry. */
import { writeFileSync } from 'node:fs';
import { renderDriverDocs } from '../src/drivers/index.js';
import { buildDriverRegistry } from '../src/daemon/driver-wiring.js';

writeFileSync(new URL('../docs/drivers.md', import.meta.url), renderDriverDocs(buildDriverRegistry().list()));
