/**
 * Composition root: the only place that names drivers/qemu and a store backend (store-wiring.ts).
 * Startup: config → lock → store → driver → lifecycle (re-adopt VMs) → API.
 * Shutdown: API → lifecycle (VMs keep running) → store → lock.
 */
import { chmod, rm } from 'node:fs/promises';
import path from 'node:path';
import { buildApi, createApiPlatform } from '../api/index.js';
import { createQemuDriver } from '../drivers/qemu/index.js';
import { DiskService, NicService, SnapshotService, VmService, withCloudInitSeed, NicFirewallService } from '../lifecycle/index.js';
import { BackupScheduler, BackupService, LocalDirTarget, scheduleRunner } from '../backup/index.js';
import { IncomingService, MigrationService, discardUnfinishedIncoming, recoverOutgoing, settleOutgoing, PeerRegistry } from '../migration/index.js';
import { migrationAddress, migrationPeers } from './migration-wiring.js';
import { VERSION, writeFileAtomic, type Logger } from '../shared/index.js';
import { ImageLibrary, PoolService, SpecPathPolicy } from '../storage/index.js';
import { openStore } from './store-wiring.js';
import { hostsService, wireCluster } from './cluster-wiring.js';
import { applyClusterFile } from './cluster-file.js';
import { wireMembership } from './cluster-membership-wiring.js';
import { wireDrain } from './cluster-drain-wiring.js';
import { clusterMoveTargets, wireRebalance } from './cluster-rebalance-wiring.js';
import { clusterForwarding } from './cluster-forward-wiring.js';
import { SecretStore } from '../secrets/index.js';
import { splitListen, type DaemonConfig } from './config.js';
import { takeLock } from './lock.js';
import { makeStatePrivate, setPrivateUmask } from './private-state.js';
import { claimQemuUidRange, forgetVmUsersOnRemove, moveOldQemuUids, openTunForVmUsers, qemuUsersOf, tapOwnerOf, warnClosedFolders } from './qemu-user-wiring.js';
import { refuseQemuPeers } from './qemu-peer-guard.js';
import { ensureTlsCertificate } from './tls.js';
import { checkSocketGroup, shareSocket } from './socket-group.js';
import { wireMetrics } from './metrics-wiring.js';
import { hostInventoryReader } from './host-inventory-wiring.js';
import { wireHistory } from './history-wiring.js';
import { SharedVmSamples } from './vm-samples.js';
import { wireNumaBalancing } from './numa-balancing-wiring.js';
import { doctorRunner } from './doctor-wiring.js';
import { AuditRetention } from './audit-retention.js';
import { resolveQuotas } from './quota-config.js';
import { wireEndpoints } from './endpoint-wiring.js';
import { ensureDefaultNetworkOnce, wireNetworks } from './network-wiring.js';
import { clusterOverlay } from './overlay-wiring.js';
import { StackService } from '../stack/index.js';
import { builtinCodecs, InterchangeService } from '../interchange/index.js';
import { readLibvirtXml, writeLibvirtXml } from '../drivers/libvirt/index.js';

export interface RunningDaemon {
  socket: string;
  url: string | null;
  service: VmService;
  close(): Promise<void>;
}

export async function startDaemon(config: DaemonConfig, logger: Logger & { level?: string }): Promise<RunningDaemon> {
  setPrivateUmask();
  config = applyClusterFile(config); // the cluster store `cluster init|join` wrote (docs/cluster.md)
  const socketGid = config.socketGroup !== undefined ? checkSocketGroup({ socket: config.socket, stateDir: config.stateDir, socketGroup: config.socketGroup }) : undefined;
  const qemuUsers = await qemuUsersOf(config);
  if (qemuUsers) await openTunForVmUsers(logger);
  await makeStatePrivate({ ...config, ...(qemuUsers ? { qemuGid: qemuUsers.sharedGid } : {}) }, logger);
  const unlock = await takeLock(path.join(config.stateDir, 'polyvisord.pid'));
  const undo: Array<() => Promise<void>> = [unlock];
  try {
    if (qemuUsers) {
      undo.unshift(await claimQemuUidRange(config, logger)); // warns when another daemon here overlaps our uid range
      await warnClosedFolders(config, logger); // a state directory under a closed home: every VM start would fail
      await moveOldQemuUids(config, qemuUsers, logger); // STATE/qemu-uids of an older daemon into VMSDIR/.qemu-uids, before any VM is adopted
    }
    const { store, integrityCheck, kv } = await openStore(config, logger.child({ component: 'store' }));
    undo.unshift(() => store.close());
    const driver = withCloudInitSeed(createQemuDriver({
      qemuBinary: config.qemuBinary,
      cacheDir: config.cacheDir,
      accelOverride: config.accel,
      logger: logger.child({ component: 'qemu' }),
      ...(qemuUsers ? { users: qemuUsers } : {}),
    }));
    // Before the VMs: the passphrases of encrypted disks live there (docs/security.md "Encrypted disks").
    const secrets = await SecretStore.open({ stateDir: config.stateDir, logger: logger.child({ component: 'secrets' }) });
    const overlay = clusterOverlay(config); // cluster members: bridge networks span the members over VXLAN
    const networks = (await wireNetworks({
      stateDir: config.stateDir, store, vms: () => service.list(), logger, ...(qemuUsers ? { tapOwner: tapOwnerOf(qemuUsers, config.vmsDir) } : {}),
      ...(kv ? { allVms: () => service.listAll() } : {}), ...(overlay ? { overlay: overlay.options } : {}),
    })).service;
    const service: VmService = new VmService({
      store, driver, host: config.hostName, vmsDir: config.vmsDir, logger, stopTimeoutSeconds: config.stopTimeoutSeconds, memoryReserveBytes: config.migrationMemoryReserveMiB * 1024 ** 2,
      ...(networks ? { nics: networks } : {}),
      quotas: resolveQuotas(config.quotas),
      diskKeys: secrets,
    });
    undo.unshift(() => service.close());
    if (qemuUsers) {
      const off = forgetVmUsersOnRemove(service.states, qemuUsers, logger);
      undo.unshift(async () => off());
    }
    await discardUnfinishedIncoming({ vms: service, store, driver, logger });
    await recoverOutgoing({ vms: service, driver, logger });
    await service.reconcile();
    if (networks) {
      // The host gets exactly the stored networks and the running VMs' NICs; a restart creates nothing twice.
      await networks.reconcile();
      if (config.defaultNetwork) await ensureDefaultNetworkOnce(config.stateDir, networks, logger);
    }
    // A cluster host (etcd store): joins with a lease, starts its fencing watchdog, runs HA (docs/ha.md).
    const cluster = kv ? await wireCluster({ config, kv, service, logger }) : undefined;
    if (cluster) undo.unshift(() => cluster.close());
    if (cluster && overlay && networks) {
      const stopOverlay = await overlay.start(cluster, networks, logger.child({ component: 'overlay' }));
      undo.unshift(async () => stopOverlay());
    }
    const hosts = await hostsService({ config, cluster, service });
    // Contacts other daemons: in the background, on each VM's queue.
    void settleOutgoing({ vms: service, driver, logger, host: config.hostName, peers: migrationPeers }).catch((err: unknown) => logger.error({ err }, 'settling interrupted moves failed'));
    const migrations = new MigrationService({ vms: service, driver, logger, host: config.hostName, peers: migrationPeers, ...(networks ? { networks } : {}) });
    const incoming = new IncomingService({
      vms: service, store, driver, host: config.hostName, address: migrationAddress(splitListen(config.listen)?.host),
      memoryReserveBytes: config.migrationMemoryReserveMiB * 1024 ** 2, logger, ...(networks ? { networks } : {}),
    });
    undo.unshift(() => incoming.close());
    const pools = new PoolService({ stateDir: config.stateDir, logger });
    const stacks = new StackService({ vms: service, meta: store, networks, pools, logger });
    // Foreign VM formats: interchange's own, and libvirt domain XML through the libvirt driver's mapping.
    const interchange = new InterchangeService({ vms: service, codecs: { ...builtinCodecs(), libvirt: { read: readLibvirtXml, write: writeLibvirtXml } } });
    await pools.init();
    const library = new ImageLibrary({ dir: path.join(config.stateDir, 'library'), downloadsDir: path.join(config.cacheDir, 'downloads'), logger });
    const pathPolicy = new SpecPathPolicy({
      poolDirs: async () => (await pools.listPools()).map((p) => p.path), libraryDir: path.join(config.stateDir, 'library'), vmsDir: config.vmsDir, extraRoots: config.pathRoots,
    });
    const storage = { pools, library, disks: new DiskService({ vms: service, pools, library, vmsDir: config.vmsDir, logger }) };
    const nics = networks ? new NicService({ vms: service, networks, logger }) : undefined;
    const nicFirewall = networks ? new NicFirewallService({ vms: service, networks, logger }) : undefined;

    const snapshots = new SnapshotService({ vms: service, vmsDir: config.vmsDir, logger });
    void snapshots.recover().catch((err: unknown) => logger.error({ err }, 'snapshot recovery failed')); // on each VM's queue, in the background
    const backups = new BackupService({ vms: service, target: new LocalDirTarget(path.join(config.stateDir, 'backups')), vmsDir: config.vmsDir, logger });
    const backupSchedules = new BackupScheduler({ meta: store, run: scheduleRunner(backups), logger: logger.child({ component: 'backup-schedules' }) });
    undo.unshift(() => backupSchedules.stop());
    const peers = new PeerRegistry(secrets);
    const membership = wireMembership({ config, store, cluster, service, secrets });
    if (cluster) {
      const drain = wireDrain({ cluster, service, migrations, secrets, host: config.hostName, logger });
      undo.unshift(() => drain.close());
    }
    const endpoints = wireEndpoints({ service, secrets, logger, stagingDir: path.join(config.cacheDir, 'imports'), libvirtDiskRoot: config.libvirtDiskRoot, accel: config.accel });
    undo.unshift(() => endpoints.close());
    const platform = createApiPlatform({ service, store, logger: logger.child({ component: 'api' }), rateLimitPerSecond: config.apiRateLimit, authFailuresPerMinute: config.authFailuresPerMinute });
    undo.unshift(() => platform.close());
    const auditRetention = new AuditRetention({ store, days: config.auditRetentionDays, archiveDir: config.auditArchiveDir, logger: logger.child({ component: 'audit' }) });
    auditRetention.start();
    undo.unshift(() => auditRetention.stop());
    const samples = new SharedVmSamples(service, { perVmTimeoutMs: 2_000 });
    undo.unshift(async () => samples.close());
    const hostInventory = hostInventoryReader(config.hostName);
    const metrics = wireMetrics({ version: VERSION, service, samples, maxAgeMs: config.metricsCacheSeconds * 1000, platform, pools, backups, migrations, endpoints, hostInventory, logger });
    undo.unshift(async () => metrics.close());
    const history = wireHistory({ stateDir: config.stateDir, service, samples, intervalSeconds: config.historyIntervalSeconds, logger });
    undo.unshift(() => history.close());
    const numa = wireNumaBalancing({ service, samples, mode: config.numaBalancing, intervalSeconds: config.numaBalancingIntervalSeconds, samplesInARow: config.numaBalancingSamples, logger });
    undo.unshift(async () => numa.close());
    const doctor = doctorRunner({ config, service, driver, pools, integrityCheck, networks });
    const forwarding = cluster ? clusterForwarding({ cluster, secrets, tokens: platform.tokens, enabled: config.forwardWrites }) : undefined;
    const rebalancer = cluster && forwarding ? wireRebalance({ cluster, service, migrations, secrets, forwarder: forwarding.forwarder, host: config.hostName }) : undefined;
    const moveTargets = cluster ? clusterMoveTargets({ cluster, secrets, hosts, host: config.hostName }) : undefined;
    const apis: Array<Awaited<ReturnType<typeof buildApi>>> = [];
    const mk = async (listener: 'unix' | 'tcp', tls?: { key: Buffer; cert: Buffer }) => {
      const api = await buildApi({ service, migrations, incoming, storage, snapshots, backups, backupSchedules, platform, metrics: metrics.exporter, history: history.recorder, hostInventory, doctor, secrets, peers, endpoints, networks, stacks, interchange, ...(nicFirewall ? { nicFirewall } : {}), ...(nics ? { nics } : {}), hosts, ...(rebalancer ? { rebalancer } : {}), ...(moveTargets ? { moveTargets } : {}), cluster: membership, pathPolicy, ...(forwarding ? { forwarding } : {}), listener, logger: logger.child({ component: 'api' }), version: VERSION, host: config.hostName, fastifyLogger: logger, ...(tls ? { tls } : {}) });
      apis.push(api);
      undo.unshift(() => api.close());
      return api.app;
    };
    await rm(config.socket, { force: true });
    await (await mk('unix')).listen({ path: config.socket });
    await chmod(config.socket, 0o600); // the socket is trusted as admin: only the daemon's user may connect…
    if (socketGid !== undefined) await shareSocket(config.socket, socketGid, logger); // …and the socket group's members (0660)
    let url: string | null = null;
    let tlsFingerprint: string | null = null;
    const tcp = splitListen(config.listen);
    if (tcp) {
      const tls = config.tls ? await ensureTlsCertificate(config.stateDir, config.hostName, logger) : undefined;
      tlsFingerprint = tls?.fingerprint ?? null;
      const app = await mk('tcp', tls);
      if (qemuUsers) refuseQemuPeers(app.server, { min: qemuUsers.o.base + 1, max: qemuUsers.o.base + qemuUsers.o.count }, logger.child({ component: 'api' }));
      await app.listen({ host: tcp.host, port: tcp.port });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : tcp.port;
      url = `${tls ? 'https' : 'http'}://${tcp.host.includes(':') ? `[${tcp.host}]` : tcp.host}:${port}`;
      // Other hosts reach this one's API (moves between hosts, drains) at this URL.
      if (cluster) await cluster.publish({ apiUrl: url, ...(tlsFingerprint ? { apiFingerprint: tlsFingerprint } : {}) });
    }
    const info = { pid: process.pid, socket: config.socket, url, tlsFingerprint, version: VERSION, host: config.hostName, startedAt: new Date().toISOString() };
    await writeFileAtomic(path.join(config.stateDir, 'daemon.json'), JSON.stringify(info, null, 2));
    logger.info(info, 'polyvisord ready');
    backupSchedules.start(); // after the API is up; a run missed while the daemon was down is due at once
    let closed = false;
    return {
      socket: config.socket,
      url,
      service,
      close: async () => {
        if (closed) return;
        closed = true;
        for (const step of undo) await step().catch((err: unknown) => logger.warn({ err }, 'shutdown step failed'));
        await rm(path.join(config.stateDir, 'daemon.json'), { force: true });
        await rm(config.socket, { force: true });
      },
    };
  } catch (err) {
    for (const step of undo) await step().catch(() => undefined);
    throw err;
  }
}
