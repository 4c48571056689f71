/**
 * The driver conformance suite (test/helpers/driver-conformance.ts) against
 * the `local` endpoint: this daemon's own QEMU engine (real QEMU under TCG,
 * the project's test guest, real SQLite), through the same session shape the
 * libvirt, vSphere and Proxmox drivers have. Cells the session shape does not
 * carry are shown by the files named in `alsoShown`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createQemuDriver } from '../src/drivers/qemu/index.js';
import { QEMU_CAPABILITIES, QEMU_DRIVER_NAME } from '../src/drivers/qemu/index.js';
import type { EndpointDriver, EndpointSession } from '../src/drivers/index.js';
import { localSession } from '../src/endpoints/index.js';
import { SnapshotService, VmService } from '../src/lifecycle/index.js';
import { silentLogger } from '../src/shared/index.js';
import { validateSpec } from '../src/spec/index.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { describeConformance } from './helpers/driver-conformance.js';
import { limit } from './helpers/limits.js';
import { guestSpec } from './helpers/vm.js';

let root: string;
let vms: VmService;
let session: EndpointSession;
let closeStore: () => void;

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'pv-local-conf-'));
  const store = openSqliteStore(path.join(root, 'state.db'));
  closeStore = () => store.close();
  const driver = createQemuDriver({ cacheDir: path.join(root, 'cache'), accelOverride: 'tcg' });
  vms = new VmService({ store, driver, host: 'local-host', vmsDir: path.join(root, 'vms'), logger: silentLogger, stopTimeoutSeconds: 30 });
  const snapshots = new SnapshotService({ vms, vmsDir: path.join(root, 'vms'), logger: silentLogger });
  session = localSession({ vms, snapshots, host: 'local-host' });
  await vms.create(validateSpec(guestSpec('conf', { memory: '262084Ki', disks: [{ name: 'data', size: '64Mi' }] })));
}, limit('boot'));

afterAll(async () => {
  for (const r of (await vms?.list()) ?? []) await vms.remove(r.name, { force: true }).catch(() => undefined);
  await vms?.close();
  closeStore?.();
  rmSync(root, { recursive: true, force: true });
}, limit('state'));

/** The local engine as a driver row: its matrix, and the session made above (it needs no connection). */
const local: EndpointDriver = {
  name: QEMU_DRIVER_NAME, title: 'local QEMU engine', urlExample: '(built in)', capabilities: QEMU_CAPABILITIES,
  connect: async () => session,
};

describe('driver conformance: local (this daemon\'s QEMU engine, TCG, the test guest)', () => {
  describeConformance(local, {
    session: () => session,
    vm: 'conf',
    stateWaitMs: limit('boot'),
    checkSerial: async (vm) => {
      const sock = await session.consoles!.serial(vm, AbortSignal.timeout(limit('shell')));
      try {
        let seen = '';
        sock.on('data', (b: Buffer) => { seen += b.toString('latin1'); });
        const until = Date.now() + limit('shell');
        while (!seen.includes('pv-conformance-42') && Date.now() < until) {
          sock.write('echo pv-conformance-$((40+2))\n');
          await new Promise((r) => setTimeout(r, 1000));
        }
        expect(seen).toContain('pv-conformance-42');
      } finally {
        sock.destroy();
      }
    },
    // Shown by their own files, through the local API: moves between daemons (test/migration-hosts.test.ts),
    // backups (test/backups.test.ts), disk hotplug (test/storage.test.ts), image import and export
    // (test/storage.test.ts), the VNC console (test/vnc.test.ts).
    alsoShown: ['migrate.live', 'backup', 'hotplug', 'import', 'export', 'console.graphical'],
  });
});
