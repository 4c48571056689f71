/**
 * The daemon on the etcd store (config `store: { kind: etcd, endpoints }`):
 * its VMs live in etcd (a restarted daemon with a fresh state directory finds
 * them), and it refuses to start with STORE_UNAVAILABLE when etcd is away.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUuid } from '../src/shared/index.js';
import { openEtcdStore } from '../src/store/etcd/index.js';
import { startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { startEtcd, type TestEtcd } from './helpers/etcd.js';

let etcd: TestEtcd;
const daemons: TestDaemon[] = [];
beforeAll(async () => {
  etcd = await startEtcd(1, 'etcd-daemon');
});
afterAll(async () => {
  for (const d of daemons) await d.stop();
  etcd?.stop();
});

function configFile(dir: string, store: unknown): string {
  const file = path.join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ store }));
  return file;
}

describe('daemon on the etcd store', () => {
  it('keeps its VMs in etcd: a daemon on a fresh state directory with the same store sees them', async () => {
    const prefix = `/pv-d-${newUuid()}/`;
    const store = { kind: 'etcd', endpoints: etcd.endpoints, prefix, timeoutMs: 3000 };
    const dir1 = tempStateDir('etcd-d1');
    const d1 = await startDaemon({ stateDir: dir1, extraArgs: ['--config', configFile(dir1, store)] });
    daemons.push(d1);
    await d1.client.createVm({ name: 'web', labels: { tier: 'web' }, disks: [{ name: 'root', size: '64Mi' }] });
    expect((await d1.client.listVms()).map((v) => v.name)).toEqual(['web']);
    await d1.stop();

    const kv = openEtcdStore({ endpoints: etcd.endpoints, prefix });
    try {
      expect((await kv.getVm('web'))?.spec.labels).toEqual({ tier: 'web' });
      expect((await kv.listAudit()).some((e) => e.action.includes('/v1/vms'))).toBe(true);
    } finally {
      await kv.close();
    }

    const dir2 = tempStateDir('etcd-d2');
    const d2 = await startDaemon({ stateDir: dir2, extraArgs: ['--config', configFile(dir2, store)] });
    daemons.push(d2);
    expect((await d2.client.listVms()).map((v) => v.name)).toEqual(['web']);
  });

  it('refuses to start with STORE_UNAVAILABLE when no etcd member answers', async () => {
    const dir = tempStateDir('etcd-d3');
    const err = await startDaemon({ stateDir: dir, extraArgs: ['--config', configFile(dir, { kind: 'etcd', endpoints: ['http://127.0.0.1:1'], timeoutMs: 1000 })] }).catch((e: unknown) => e);
    // The daemon prints the catalogue message and hint (STORE_UNAVAILABLE) and exits.
    expect(String(err)).toMatch(/no etcd member answers \(http:\/\/127\.0\.0\.1:1/);
    expect(String(err)).toContain('a majority of the etcd members');
  });

  it('refuses a store config that is not valid with CONFIG_INVALID', async () => {
    const dir = tempStateDir('etcd-d4');
    const err = await startDaemon({ stateDir: dir, extraArgs: ['--config', configFile(dir, { kind: 'etcd', endpoints: [] })] }).catch((e: unknown) => e);
    expect(String(err)).toContain('invalid config: store.endpoints');
  });
});
