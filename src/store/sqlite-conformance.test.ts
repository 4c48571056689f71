/** The shared Store behaviour suite (test/helpers/store-conformance.ts) on the SQLite backend. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { storeConformance } from '../../test/helpers/store-conformance.js';
import { openSqliteStore } from './sqlite/index.js';

let dir = '';
let file = '';
storeConformance('sqlite', {
  async open() {
    dir = await mkdtemp(path.join(tmpdir(), 'pv-conformance-'));
    file = path.join(dir, 'state.db');
    return openSqliteStore(file);
  },
  async another() {
    return openSqliteStore(file);
  },
  async cleanup() {
    await rm(dir, { recursive: true, force: true });
  },
});
