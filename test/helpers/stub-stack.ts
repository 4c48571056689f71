/**
 * For in-process API tests: a real SQLite store in a temporary directory, a
 * VmService on the stub driver (records without processes), the platform and
 * the app. `close()` undoes all of it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stubDriver } from '../../src/drivers/stub-driver.js';
import { VmService, type QuotaConfig } from '../../src/lifecycle/index.js';
import { silentLogger } from '../../src/shared/index.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/index.js';
import { buildApi, type ApiOptions } from '../../src/api/app.js';
import { createApiPlatform, type ApiPlatform } from '../../src/api/platform.js';
import { SecretStore } from '../../src/secrets/index.js';

export interface StubStack {
  dir: string;
  store: SqliteStore;
  service: VmService;
  platform: ApiPlatform;
  secrets: SecretStore;
  api: Awaited<ReturnType<typeof buildApi>>;
  close(): Promise<void>;
}

export async function openStubStack(tag: string, o: { listener: 'tcp' | 'unix'; rateLimitPerSecond: number; authFailuresPerMinute?: number; limits?: ApiOptions['limits']; quotas?: QuotaConfig }): Promise<StubStack> {
  const dir = await mkdtemp(path.join(tmpdir(), `pv-${tag}-`));
  const store = openSqliteStore(path.join(dir, 'state.db'));
  const service = new VmService({ store, driver: stubDriver, host: 'h', vmsDir: path.join(dir, 'vms'), logger: silentLogger, ...(o.quotas ? { quotas: o.quotas } : {}) });
  const platform = createApiPlatform({ service, store, logger: silentLogger, rateLimitPerSecond: o.rateLimitPerSecond, authFailuresPerMinute: o.authFailuresPerMinute ?? 0 });
  const secrets = await SecretStore.open({ stateDir: dir });
  const api = await buildApi({ service, platform, secrets, listener: o.listener, logger: silentLogger, version: 't', host: 'h', ...(o.limits ? { limits: o.limits } : {}) });
  return {
    dir, store, service, platform, secrets, api,
    async close() {
      await api.close();
      await platform.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
