/**
 * Every service the daemon wires (src/daemon/daemon.ts), on the stub driver
 * (VM records without processes): real SQLite, real pools, library, disks,
 * snapshots and backups (qemu-img), schedules, moves, metrics and doctor. So
 * every route of the daemon is registered, and the ones that need no running
 * guest really work. `close()` undoes all of it.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApi, createApiPlatform } from '../../src/api/index.js';
import { BackupScheduler, BackupService, LocalDirTarget, scheduleRunner } from '../../src/backup/index.js';
import { migrationPeers } from '../../src/daemon/migration-wiring.js';
import { ClusterHosts, HostDirectory, Rebalancer, clusterKeys } from '../../src/cluster/index.js';
import { memKv } from './mem-kv.js';
import { stubMembership } from './stub-membership.js';
import { wireMetrics } from '../../src/daemon/metrics-wiring.js';
import { wireHistory } from '../../src/daemon/history-wiring.js';
import { hostInventoryReader } from '../../src/daemon/host-inventory-wiring.js';
import { SharedVmSamples } from '../../src/daemon/vm-samples.js';
import { wireEndpoints } from '../../src/daemon/endpoint-wiring.js';
import { memDriver } from './mem-driver.js';
import { runDoctor } from '../../src/doctor/index.js';
import { stubDriver } from '../../src/drivers/stub-driver.js';
import { DiskService, NetworkService, NicFirewallService, NicService, SnapshotService, VmService } from '../../src/lifecycle/index.js';
import { MemHostNetworks } from './mem-networks.js';
import { IncomingService, MigrationService, PeerRegistry } from '../../src/migration/index.js';
import { SecretStore } from '../../src/secrets/index.js';
import { silentLogger } from '../../src/shared/index.js';
import { ImageLibrary, PoolService } from '../../src/storage/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { StackService } from '../../src/stack/index.js';
import { builtinCodecs, InterchangeService } from '../../src/interchange/index.js';
import type { StubStack } from './stub-stack.js';

/** The stub stack's parts (test/helpers/stub-stack.ts), with every service behind its API. */
export type FullStubStack = StubStack;

/**
 * `parent`: where the stack's temporary state lives (default the OS temp
 * folder). The fuzzers put it in memory (/dev/shm): the store commits every
 * audit row with synchronous=FULL, and on a disk the fsyncs, not the API, set
 * their pace.
 */
export async function openFullStubStack(tag: string, listener: 'tcp' | 'unix' = 'tcp', parent = tmpdir()): Promise<FullStubStack> {
  const dir = await mkdtemp(path.join(parent, `pv-${tag}-`));
  const stateDir = path.join(dir, 'state');
  const vmsDir = path.join(stateDir, 'vms');
  await mkdir(vmsDir, { recursive: true });
  const logger = silentLogger;
  const store = openSqliteStore(path.join(stateDir, 'state.db'));
  const service = new VmService({ store, driver: stubDriver, host: 'h', vmsDir, logger });
  const migrations = new MigrationService({ vms: service, driver: stubDriver, logger, host: 'h', peers: migrationPeers });
  const incoming = new IncomingService({ vms: service, store, driver: stubDriver, host: 'h', address: '127.0.0.1', memoryReserveBytes: 0, logger });
  const pools = new PoolService({ stateDir, logger });
  await pools.init();
  const library = new ImageLibrary({ dir: path.join(stateDir, 'library'), downloadsDir: path.join(dir, 'cache', 'downloads'), logger });
  const storage = { pools, library, disks: new DiskService({ vms: service, pools, library, vmsDir, logger }) };
  const snapshots = new SnapshotService({ vms: service, vmsDir, logger });
  const backups = new BackupService({ vms: service, target: new LocalDirTarget(path.join(stateDir, 'backups')), vmsDir, logger });
  const backupSchedules = new BackupScheduler({ meta: store, run: scheduleRunner(backups), logger });
  const secrets = await SecretStore.open({ stateDir });
  const platform = createApiPlatform({ service, store, logger, rateLimitPerSecond: 0, authFailuresPerMinute: 0 });
  const samples = new SharedVmSamples(service, { perVmTimeoutMs: 2_000 });
  const metrics = wireMetrics({ version: 't', service, samples, maxAgeMs: 0, platform, pools, backups, migrations, logger });
  const history = wireHistory({ stateDir, service, samples, intervalSeconds: 10, logger });
  await history.recorder.tick(); // a first host point, so the history answer has one to check
  const doctor = (signal: AbortSignal) => runDoctor({
    host: 'h', vms: service, probeAccel: (s) => stubDriver.probeAccel(s), pools: () => pools.listPools(), volumes: (p) => pools.listVolumes(p),
    integrityCheck: () => store.integrityCheck(), qemuBinary: 'qemu-system-x86_64', qemuImgBinary: 'qemu-img', vmsDir, dbFile: path.join(stateDir, 'state.db'),
  }, signal);
  const networks = new NetworkService({ store, vms: () => service.list(), host: new MemHostNetworks(), hostRoutes: async () => [], logger });
  const nicFirewall = new NicFirewallService({ vms: service, networks, logger });
  const nics = new NicService({ vms: service, networks, logger });
  const stacks = new StackService({ vms: service, meta: store, networks, pools, logger });
  // /v1/hosts on a cluster directory over an in-memory key-value store: host 'h' live, 'h2' known and down.
  const hostKv = memKv();
  const directory = new HostDirectory(hostKv, 'h');
  for (const name of ['h', 'h2']) await directory.remember({ name, state: 'ready', capacity: { cpus: 2, memoryBytes: 2 ** 31, diskBytes: 2 ** 34 }, facts: { version: 't' }, since: new Date().toISOString() });
  await hostKv.put(clusterKeys().host('h'), JSON.stringify({ name: 'h', state: 'ready', capacity: { cpus: 2, memoryBytes: 2 ** 31, diskBytes: 2 ** 34 }, facts: { version: 't' }, since: new Date().toISOString() }));
  const hosts = new ClusterHosts(directory, () => service.listAll());
  // The rebalance's planning is real; its moves are not made here (stub driver: no QEMU to move).
  const rebalancer = new Rebalancer({ vms: () => service.listAll(), hosts: (vms) => directory.list(vms), live: () => directory.live(), move: async () => undefined });
  const cluster = await stubMembership({ kv: hostKv, directory, secrets, dir, service });
  const api = await buildApi({
    service, hosts, rebalancer, cluster, networks, nicFirewall, stacks, nics, interchange: new InterchangeService({ vms: service, codecs: builtinCodecs() }), migrations, incoming, storage, snapshots, backups, backupSchedules, platform, metrics: metrics.exporter, history: history.recorder, doctor, secrets, peers: new PeerRegistry(secrets),
    // the GPU host fixture (no GPU or IOMMU here), so the answer has GPUs, mdev types and IOMMU groups to check
    hostInventory: hostInventoryReader('h', path.resolve(import.meta.dirname, '..', 'fixtures', 'host-sysfs', 'gpu-iommu')),
    endpoints: wireEndpoints({ service, secrets, logger, stagingDir: path.join(dir, 'cache', 'imports'), extraDrivers: [memDriver({ events: true, diskRoot: path.join(dir, 'remote') }).driver] }),
    listener, logger, version: 't', host: 'h',
  });
  return {
    dir, store, service, platform, secrets, api,
    async close() {
      await api.close();
      await backupSchedules.stop();
      metrics.close();
      samples.close();
      await history.close();
      await incoming.close();
      await platform.close();
      await service.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A temporary folder in memory where the host has one (/dev/shm), else the OS temp folder. */
export function memoryTmp(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

/**
 * What a refused request must leave alone, for the fuzzers: every column of every row of the vms
 * table, every column but last_used_at (a successful authentication may touch it) of api_tokens, and
 * the secrets' names and times.
 *
 * `read()` (the full read): those rows as SQLite stores them (raw rows from a second, read-only
 * connection with statements prepared once: no record parsing) and the secrets. At least as strict as
 * comparing listVms() and tokens.list() records: a change to any stored field shows.
 *
 * `quick()` (read after every fuzzed request): a counter that triggers in the test's database add 1 to
 * on every INSERT and DELETE of those two tables and on every UPDATE that changes one of those columns
 * (a comparison of every column, old IS new, generated from the table's own column list, so a column
 * added later is covered), plus the secrets. It moves whenever the full read would differ, on any
 * connection, and also on a change undone within the same request. The triggers and their counter
 * table (fuzz_state_changes) live in this temporary database only, added after the store's migrations.
 * src/api/fuzz-state.test.ts plants one change in each table and sees it with both reads.
 */
export function stateReader(stack: FullStubStack): { read(): Promise<string>; quick(): Promise<string>; close(): void } {
  const file = path.join(stack.dir, 'state', 'state.db');
  const rw = new Database(file, { timeout: 5_000 });
  const columns = (table: string): string[] => (rw.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as Array<{ name: string }>).map((c) => c.name);
  const changed = (cols: readonly string[]): string => cols.map((c) => `old."${c}" IS NOT new."${c}"`).join(' OR ');
  rw.exec('CREATE TABLE IF NOT EXISTS fuzz_state_changes (n INTEGER NOT NULL); INSERT INTO fuzz_state_changes SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM fuzz_state_changes);');
  const bump = 'UPDATE fuzz_state_changes SET n = n + 1';
  for (const [table, cols] of [['vms', columns('vms')], ['api_tokens', columns('api_tokens').filter((c) => c !== 'last_used_at')]] as const) {
    rw.exec(`
      CREATE TRIGGER IF NOT EXISTS fuzz_${table}_insert AFTER INSERT ON ${table} BEGIN ${bump}; END;
      CREATE TRIGGER IF NOT EXISTS fuzz_${table}_delete AFTER DELETE ON ${table} BEGIN ${bump}; END;
      CREATE TRIGGER IF NOT EXISTS fuzz_${table}_update AFTER UPDATE ON ${table} WHEN ${changed(cols)} BEGIN ${bump}; END;`);
  }
  rw.close();
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const vms = db.prepare('SELECT * FROM vms ORDER BY id').raw();
  const tokens = db.prepare('SELECT name, role, hash, prefix, created_at, expires_at FROM api_tokens ORDER BY name').raw();
  const counter = db.prepare('SELECT n FROM fuzz_state_changes').pluck();
  return {
    read: async () => JSON.stringify([vms.all(), tokens.all(), await stack.secrets.list()]),
    quick: async () => `${String(counter.get())} ${JSON.stringify(await stack.secrets.list())}`,
    close: () => db.close(),
  };
}
