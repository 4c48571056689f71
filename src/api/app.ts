/** The fastify app: one plugin per resource, errors mapped from the catalogue. */
import http from 'node:http';
import https from 'node:https';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { installAuditHook } from './audit-log.js';
import { installRedaction } from './redact.js';
import { installSecurityHeaders } from './security-headers.js';
import { installPathGuard } from './path-guard.js';
import { installCallerContext } from './caller-context.js';
import { installOwnerGuard } from './owner-guard.js';
import type { OwnerForwarder } from './owner-forward.js';
import type { ForwardedIdentityOptions } from './auth/forwarded-identity.js';
import { installAuth, requirePermissions } from './auth/authenticate.js';
import { collectRoutes, openApiRoute, type RegisteredRoute } from './openapi.js';
import type { ApiPlatform } from './platform.js';
import { auditRoutes } from './routes/audit.js';
import { eventRoutes } from './routes/events.js';
import { operationRoutes } from './routes/operations.js';
import { tokenRoutes } from './routes/tokens.js';
import { secretRoutes, type SecretsService } from './routes/secrets.js';
import type { NetworkService, NicFirewallService, NicService, SnapshotService, VmService } from '../lifecycle/index.js';
import type { IncomingService, MigrationService, PeerRegistry } from '../migration/index.js';
import type { Logger } from '../shared/index.js';
import type { HostInventoryView } from '../spec/index.js';
import { ConsoleHub } from './console-hub.js';
import { frameworkError, installErrorHandling } from './errors.js';
import { installRequestContext, requestIdOptions } from './request-context.js';
import { consoleRoutes } from './routes/console.js';
import { VncSessions, vncRoutes } from './routes/vnc.js';
import { migrationRoutes } from './routes/migration.js';
import { peerRoutes } from './routes/peers.js';
import { specCheckRoutes } from './routes/spec-check.js';
import { endpointRoutes } from './routes/endpoints.js';
import type { EndpointService } from '../endpoints/index.js';
import { incomingMigrationRoutes } from './routes/migration-incoming.js';
import { storageRoutes, type StorageServices } from './routes/storage.js';
import { vmDiskRoutes } from './routes/vm-disks.js';
import { vmNicRoutes } from './routes/vm-nics.js';
import { vmResizeRoutes } from './routes/vm-resize.js';
import { ResizeService } from '../lifecycle/index.js';
import { snapshotRoutes } from './routes/snapshots.js';
import { backupRoutes } from './routes/backups.js';
import { backupScheduleRoutes } from './routes/backups-schedules.js';
import type { BackupScheduler, BackupService } from '../backup/index.js';
import type { SpecPathPolicy } from '../storage/index.js';
import { systemRoutes } from './routes/system.js';
import type { ClusterService, HostsService, Rebalancer } from '../cluster/index.js';
import { networkRoutes } from './routes/networks.js';
import { hostRoutes } from './routes/hosts.js';
import { rebalanceRoutes } from './routes/rebalance.js';
import type { ClusterMoveTargets } from './migration-target.js';
import { clusterRoutes } from './routes/cluster.js';
import { stackRoutes } from './routes/stacks.js';
import type { StackService } from '../stack/index.js';
import { interchangeRoutes } from './routes/interchange.js';
import type { InterchangeService } from '../interchange/index.js';
import { vmNicFirewallRoutes } from './routes/vm-nic-firewall.js';
import { uiRoutes } from './routes/ui.js';
import { whoamiRoutes } from './routes/whoami.js';
import { statsRoutes } from './routes/stats.js';
import { vmGuestRoutes } from './routes/vm-guest.js';
import { historyRoutes, type HistoryQueries } from './routes/history.js';
import { hostInventoryRoutes } from './routes/host-inventory.js';
import { vmEditRoutes } from './routes/vm-edit.js';
import { vmRoutes } from './routes/vms.js';
import { bulkRoutes } from './routes/vm-bulk.js';
import { metricsRoutes } from './routes/metrics.js';
import { doctorRoutes, type DoctorRunner } from './routes/doctor.js';
import type { MetricsExporter } from '../metrics/index.js';

export interface ApiOptions {
  service: VmService;
  migrations?: MigrationService;
  /** Receives host-to-host moves (target side). */
  incoming?: IncomingService;
  storage?: StorageServices;
  snapshots?: SnapshotService;
  backups?: BackupService;
  backupSchedules?: BackupScheduler;
  logger: Logger;
  version: string;
  host: string;
  /** pino-compatible logger instance for fastify's request logs. */
  fastifyLogger?: unknown;
  /** Shared by every listener of the daemon (tokens, operations, events, audit). */
  platform: ApiPlatform;
  /** The unix socket trusts its (root-only) caller as admin; TCP requires tokens. */
  listener: 'unix' | 'tcp';
  limits?: ApiLimits;
  /** Serve HTTPS (and WSS) with this key and certificate (TCP listeners only). */
  tls?: { key: Buffer; cert: Buffer };
  /** Serves /metrics and counts requests when given. */
  metrics?: MetricsExporter;
  /** Serves /v1/doctor when given. */
  doctor?: DoctorRunner;
  /** Serves /v1/secrets when given (the daemon's secrets store). */
  secrets?: SecretsService;
  /** Registered migration peers (audit defect 7): serves /v1/peers, resolves `peer` in moves; without it raw targets only. */
  peers?: PeerRegistry;
  /** Serves /v1/vms/{name}/history and /v1/host/history when given (the daemon's history recorder). */
  history?: HistoryQueries;
  /** Reads this host's topology and devices: serves /v1/host/inventory when given. */
  hostInventory?: () => Promise<HostInventoryView>;
  /** Which host files a non-admin's spec may name (audit defect 2); without it, any. */
  pathPolicy?: SpecPathPolicy;
  /** Other hypervisors and the inventory across them: serves /v1/drivers, /v1/endpoints, /v1/inventory when given. */
  endpoints?: EndpointService;
  /** The cluster's hosts (or this one host): serves /v1/hosts when given. */
  hosts?: HostsService;
  /** Moves running VMs between the cluster's hosts (POST /v1/cluster/rebalance, served with `hosts`; NOT_A_CLUSTER without it). */
  rebalancer?: Rebalancer;
  /** Resolves `host` in a migrate body to that cluster host (`vm migrate --host`); without it such a move is NOT_A_CLUSTER. */
  moveTargets?: ClusterMoveTargets;
  /** Cluster membership (init, join, tokens, status, leave): serves /v1/cluster when given. */
  cluster?: ClusterService;
  /** Virtual networks: serves /v1/networks when given. */
  networks?: NetworkService;
  /** Declarative stacks: serves /v1/stacks when given. */
  stacks?: StackService;
  /** The firewalls of VMs' NICs on virtual networks: serves /v1/vms/{name}/nics/{nic}/firewall when given. */
  nicFirewall?: NicFirewallService;
  /** NICs of VMs on virtual networks: serves /v1/vms/{name}/nics and adds `nics` to GET /v1/vms/{name} when given. */
  nics?: NicService;
  /** Foreign VM formats: serves POST /v1/imports and POST /v1/vms/{name}/export-config when given. */
  interchange?: InterchangeService;
  /** A cluster host: writes to other hosts' VMs go to their owner, and requests other hosts forward here run as their caller (docs/cluster.md). */
  forwarding?: { forwarder: OwnerForwarder; identity: ForwardedIdentityOptions };
}

/** A slow or malicious client cannot hold the daemon: headers and bodies must arrive in time. */
export interface ApiLimits {
  /** Default 10 s. */
  headersTimeoutMs?: number;
  /** Whole request (headers and body) received within this; default 30 s. */
  requestTimeoutMs?: number;
  /** How often those two are checked (default 1 s). */
  checkIntervalMs?: number;
  maxConnections?: number;
}

export async function buildApi(o: ApiOptions): Promise<{ app: FastifyInstance; routes: readonly RegisteredRoute[]; close: () => Promise<void> }> {
  const l = o.limits ?? {};
  const hub = new ConsoleHub(o.logger.child({ component: 'console' }));
  const vnc = new VncSessions(o.logger.child({ component: 'vnc' }));
  const app: FastifyInstance = Fastify({
    ...(o.fastifyLogger ? { loggerInstance: o.fastifyLogger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: 1024 * 1024,
    serverFactory: (handler) => {
      const limits = {
        headersTimeout: l.headersTimeoutMs ?? 10_000,
        requestTimeout: l.requestTimeoutMs ?? 30_000,
        connectionsCheckingInterval: l.checkIntervalMs ?? 1000,
        keepAliveTimeout: 5_000,
        maxHeaderSize: 16 * 1024,
      };
      const server = o.tls
        ? https.createServer({ ...limits, key: o.tls.key, cert: o.tls.cert, minVersion: 'TLSv1.2' }, handler)
        : http.createServer(limits, handler);
      server.maxConnections = l.maxConnections ?? 1024;
      return server;
    },
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: frameworkError,
    return503OnClosing: true,
    ...requestIdOptions,
  }) as unknown as FastifyInstance;
  installRequestContext(app);
  installSecurityHeaders(app);
  await app.register(websocket, { options: { maxPayload: 1024 * 1024 } });
  installErrorHandling(app);
  requirePermissions(app);
  const routes = collectRoutes(app);
  installAuth(app, { listener: o.listener, tokens: o.platform.tokens, limiter: o.platform.limiter, failures: o.platform.failures, badTokens: o.platform.badTokens, ...(o.forwarding ? { forwarded: o.forwarding.identity } : {}) });
  installCallerContext(app);
  installAuditHook(app, o.platform.audit);
  installRedaction(app);
  if (o.pathPolicy) installPathGuard(app, o.pathPolicy);
  installOwnerGuard(app, { service: o.service, host: o.host, ...(o.forwarding ? { forwarder: o.forwarding.forwarder } : {}) });
  if (o.metrics) metricsRoutes(app, o.metrics);
  if (o.doctor) doctorRoutes(app, o.doctor);
  systemRoutes(app, { version: o.version, host: o.host });
  openApiRoute(app, routes, o.version);
  tokenRoutes(app, o.platform.tokens);
  if (o.secrets) secretRoutes(app, o.secrets);
  operationRoutes(app, o.platform.operations);
  eventRoutes(app, o.platform.events);
  whoamiRoutes(app);
  statsRoutes(app, o.service);
  if (o.history) historyRoutes(app, o.service, o.history);
  if (o.hostInventory) hostInventoryRoutes(app, o.hostInventory);
  vmGuestRoutes(app, o.service);
  auditRoutes(app, o.platform.auditStore);
  bulkRoutes(app, { service: o.service, snapshots: o.snapshots, backups: o.backups, migrations: o.migrations, peers: o.peers }, o.platform.operations);
  vmRoutes(app, o.service, o.platform.operations, o.nics, o.hosts ? { hosts: o.hosts, self: o.host, ...(o.forwarding ? { forwarder: o.forwarding.forwarder } : {}) } : undefined);
  vmEditRoutes(app, o.service, o.platform.operations);
  specCheckRoutes(app, { service: o.service, pathPolicy: o.pathPolicy });
  if (o.migrations) migrationRoutes(app, o.migrations, o.platform.operations, o.peers, o.moveTargets);
  if (o.peers) peerRoutes(app, o.peers);
  if (o.endpoints) endpointRoutes(app, o.endpoints, o.platform.operations, o.service);
  if (o.incoming) incomingMigrationRoutes(app, o.incoming);
  if (o.storage) storageRoutes(app, o.storage);
  if (o.storage) vmDiskRoutes(app, o.storage);
  if (o.snapshots) snapshotRoutes(app, o.snapshots);
  if (o.backups) backupRoutes(app, o.backups, o.platform.operations);
  if (o.backupSchedules) backupScheduleRoutes(app, o.backupSchedules);
  if (o.networks) networkRoutes(app, o.networks);
  if (o.hosts) hostRoutes(app, o.hosts);
  if (o.hosts) rebalanceRoutes(app, o.rebalancer, o.platform.operations);
  if (o.cluster) clusterRoutes(app, o.cluster);
  if (o.stacks) stackRoutes(app, { stacks: o.stacks, ops: o.platform.operations, pathPolicy: o.pathPolicy });
  if (o.nicFirewall) vmNicFirewallRoutes(app, o.nicFirewall);
  if (o.nics) vmNicRoutes(app, o.nics);
  vmResizeRoutes(app, new ResizeService({ vms: o.service, logger: o.logger }));
  if (o.interchange) interchangeRoutes(app, o.interchange, o.platform.operations);
  consoleRoutes(app, o.service, hub);
  vncRoutes(app, o.service, vnc);
  uiRoutes(app);
  return {
    app,
    routes,
    close: async () => {
      hub.closeAll();
      vnc.closeAll();
      await app.close();
    },
  };
}
