/**
 * One config for every path and port (file < environment < flags), so several
 * daemons can run side by side on one machine.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_LISTEN, defaultStateDir, fail, isLoopbackHost, socketIn } from '../shared/index.js';
import { problemsOf } from '../spec/index.js';
import { quotasSchema } from './quota-config.js';

const listenPattern = /^(off|(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|0\.0\.0\.0|\[::1\]|localhost|[0-9.]+):\d{1,5})$/;

const absPath = z.string().regex(/^\/[^\0]*$/, 'an absolute file path');
const storeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sqlite') }).strict(),
  z.object({
    kind: z.literal('etcd'),
    endpoints: z.array(z.string().regex(/^https?:\/\/[^\s/]+$/, 'etcd client URLs like http://127.0.0.1:2379')).min(1),
    prefix: z.string().regex(/^\/[A-Za-z0-9_./-]*$/, 'a key prefix like /polyvisor/v1/').optional(),
    timeoutMs: z.number().int().min(100).max(600_000).optional(),
    /** PEM files: the CA of the members' certificates, and a client certificate and key when they require one. */
    tls: z.object({ ca: absPath.optional(), cert: absPath.optional(), key: absPath.optional() }).strict().optional(),
    /** This host's lease in the cluster (docs/ha.md): when it is not renewed for this long the host is lost, its watchdog kills its HA VMs and they restart elsewhere. */
    leaseTtlSeconds: z.number().int().min(2).max(300).optional(),
    /** The host pool (HA group) this host belongs to. */
    pool: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'a pool name of letters, digits, "-", "_", "."').optional(),
    /** Run the cluster's HA manager and executor (default true). */
    ha: z.boolean().optional(),
  }).strict(),
]);

export type StoreConfig = z.infer<typeof storeSchema>;

const configSchema = z
  .object({
    stateDir: z.string().min(1),
    /** Where VM directories (managed disks, runtime files) live; default STATE/vms. Cluster hosts point it at storage they all reach for HA (docs/ha.md). */
    vmsDir: absPath.optional(),
    socket: z.string().min(1).optional(),
    /** Group whose members may use the unix socket (root:GROUP 0660, docs/security.md); unset: the daemon's user alone (0600). */
    socketGroup: z.string().regex(/^([a-z_][a-z0-9_-]{0,31}\$?|\d{1,10})$/, 'a group name or a numeric gid').optional(),
    listen: z.string().regex(listenPattern, 'HOST:PORT (port 0 picks a free one) or "off"'),
    hostName: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'a host name of letters, digits, "-", "_", "."'),
    qemuBinary: z.string().min(1),
    qemuImgBinary: z.string().min(1),
    accel: z.enum(['auto', 'kvm', 'tcg']),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']),
    logFormat: z.enum(['auto', 'text', 'json']),
    stopTimeoutSeconds: z.coerce.number().int().min(1).max(3600),
    apiRateLimit: z.coerce.number().int().min(0).max(1_000_000),
    authFailuresPerMinute: z.coerce.number().int().min(0).max(1_000_000),
    migrationMemoryReserveMiB: z.coerce.number().int().min(0).max(16 * 1024 * 1024),
    /** Days the audit log keeps its entries (0: forever). */
    auditRetentionDays: z.coerce.number().int().min(0).max(36_500),
    /** Where entries past their retention are appended as JSON lines before removal; unset: they are only removed. */
    auditArchiveDir: z.string().regex(/^\/[^\0]*$/, 'an absolute folder path').optional(),
    /** Seconds between resource history samples (host and each running VM; docs/operations.md). */
    historyIntervalSeconds: z.coerce.number().int().min(1).max(60),
    /** /metrics reuses the newest sampling of the VMs' counters while it is younger than this (0: sample on every scrape); state changes show at once (docs/operations.md). */
    metricsCacheSeconds: z.coerce.number().int().min(0).max(300),
    /** Folders whose files any role's spec may name (audit defect 2); admins may name any file. */
    pathRoots: z.union([z.array(z.string()), z.string()])
      .transform((v) => (Array.isArray(v) ? v : v.split(':')).filter((p) => p !== ''))
      .pipe(z.array(z.string().regex(/^\/[^\0]*$/, 'absolute folder paths (POLYVISOR_PATH_ROOTS: separated by ":")'))),
    /** Where disks of VMs moved to a libvirt endpoint go (`vm move --to`): a folder libvirt's QEMU can read. */
    libvirtDiskRoot: z.string().regex(/^\/[^\0]*$/, 'an absolute folder path'),
    /** Create the `default` NAT network on first run when this host can build networks (docs/networks-objects.md). */
    defaultNetwork: z.union([z.boolean(), z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])])
      .transform((v) => v === true || v === '1' || v === 'true' || v === 'yes' || v === 'on'),
    /** Where VMs, tokens, audit and meta live: the embedded SQLite file (default) or an etcd cluster (docs/cluster-store.md). */
    store: storeSchema,
    /** A cluster host sends writes to a VM another host owns on to that host (docs/cluster.md); false: they answer VM_ON_OTHER_HOST. */
    forwardWrites: z.union([z.boolean(), z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])])
      .transform((v) => v === true || v === '1' || v === 'true' || v === 'yes' || v === 'on'),
    /** HTTPS on the TCP listener: "auto" (the default) serves HTTPS whenever it listens beyond loopback (audit defect 6). */
    tls: z.union([z.boolean(), z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', 'auto'])])
      .transform((v) => (v === 'auto' ? 'auto' as const : v === true || v === '1' || v === 'true' || v === 'yes' || v === 'on')),
    /** Plain HTTP beyond loopback, said out loud (`--insecure-http`); doctor warns while it is on. */
    insecureHttp: z.union([z.boolean(), z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])])
      .transform((v) => v === true || v === '1' || v === 'true' || v === 'yes' || v === 'on'),
    /** VM, vCPU and memory limits per role and token (file only; docs/config.md); unset: the defaults (operators bounded by the host's size). */
    quotas: quotasSchema.optional(),
    /** Who QEMU runs as: "per-vm" (each VM its own uid from qemuUidBase+1 …, docs/security.md) or "root" (the daemon's user). */
    qemuUser: z.enum(['root', 'per-vm']),
    /** The shared group of the QEMU users (gid); VMs get the uids after it. */
    qemuUidBase: z.coerce.number().int().min(1000).max(4_000_000_000),
    /** How many VMs may hold a uid at once on this host. */
    qemuUidCount: z.coerce.number().int().min(1).max(1_000_000),
    /** NUMA balancing (docs/topology.md): "report" logs a VM whose guest RAM stays more than half remote, "migrate" also moves its pages home, "off" does neither. */
    numaBalancing: z.enum(['off', 'report', 'migrate']),
    /** Seconds between the balancer's looks at each running VM's locality. */
    numaBalancingIntervalSeconds: z.coerce.number().int().min(1).max(3600),
    /** Looks in a row with more than half remote before it acts (the sustained period is this × the interval). */
    numaBalancingSamples: z.coerce.number().int().min(1).max(1000),
  })
  .strict();

export type DaemonConfig = Required<Omit<z.infer<typeof configSchema>, 'auditArchiveDir' | 'socketGroup' | 'tls' | 'quotas'>> & {
  auditArchiveDir?: string | undefined; socketGroup?: string | undefined; quotas?: z.infer<typeof configSchema>['quotas']; vmsDir: string; dbFile: string; cacheDir: string;
  /** Resolved: whether the TCP listener serves HTTPS. */
  tls: boolean;
};

const ENV: Record<string, keyof z.infer<typeof configSchema>> = {
  POLYVISOR_STATE_DIR: 'stateDir',
  POLYVISOR_SOCKET: 'socket',
  POLYVISOR_SOCKET_GROUP: 'socketGroup',
  POLYVISOR_LISTEN: 'listen',
  POLYVISOR_HOST_NAME: 'hostName',
  POLYVISOR_QEMU: 'qemuBinary',
  POLYVISOR_QEMU_IMG: 'qemuImgBinary',
  POLYVISOR_ACCEL: 'accel',
  POLYVISOR_LOG_LEVEL: 'logLevel',
  POLYVISOR_LOG_FORMAT: 'logFormat',
  POLYVISOR_STOP_TIMEOUT: 'stopTimeoutSeconds',
  POLYVISOR_API_RATE_LIMIT: 'apiRateLimit',
  POLYVISOR_AUTH_FAILURES_PER_MINUTE: 'authFailuresPerMinute',
  POLYVISOR_TLS: 'tls',
  POLYVISOR_INSECURE_HTTP: 'insecureHttp',
  POLYVISOR_MIGRATION_MEMORY_RESERVE_MIB: 'migrationMemoryReserveMiB',
  POLYVISOR_PATH_ROOTS: 'pathRoots',
  POLYVISOR_AUDIT_RETENTION_DAYS: 'auditRetentionDays',
  POLYVISOR_AUDIT_ARCHIVE_DIR: 'auditArchiveDir',
  POLYVISOR_HISTORY_INTERVAL: 'historyIntervalSeconds',
  POLYVISOR_METRICS_CACHE: 'metricsCacheSeconds',
  POLYVISOR_LIBVIRT_DISK_ROOT: 'libvirtDiskRoot',
  POLYVISOR_DEFAULT_NETWORK: 'defaultNetwork',
  POLYVISOR_FORWARD_WRITES: 'forwardWrites',
  POLYVISOR_QEMU_USER: 'qemuUser',
  POLYVISOR_QEMU_UID_BASE: 'qemuUidBase',
  POLYVISOR_QEMU_UID_COUNT: 'qemuUidCount',
  POLYVISOR_NUMA_BALANCING: 'numaBalancing',
  POLYVISOR_NUMA_BALANCING_INTERVAL: 'numaBalancingIntervalSeconds',
  POLYVISOR_NUMA_BALANCING_SAMPLES: 'numaBalancingSamples',
};

export const CONFIG_KEYS = Object.values(ENV);

/**
 * Who QEMU runs as when the config does not say: each VM its own unprivileged
 * uid for a root daemon (libvirt's qemu:///system runs QEMU as `libvirt-qemu`;
 * Proxmox VE as root), the daemon's own user for one that is not root (only
 * root can start a process as another uid, and that QEMU is unprivileged
 * already). docs/security.md "QEMU as its own user".
 */
export function defaultQemuUser(euid: number | undefined = process.geteuid?.()): 'per-vm' | 'root' {
  return euid === 0 ? 'per-vm' : 'root';
}

export interface ConfigSources {
  /** Path of a YAML/JSON config file (flag --config or POLYVISOR_CONFIG). */
  file?: string;
  env?: NodeJS.ProcessEnv;
  flags?: Partial<Record<string, string>>;
  /** The daemon's effective uid, for the defaults that depend on it (tests); the process's own when unset. */
  euid?: number;
}

export function loadConfig(src: ConfigSources = {}): DaemonConfig {
  const env = src.env ?? process.env;
  const defaults = {
    stateDir: defaultStateDir(),
    listen: DEFAULT_LISTEN,
    hostName: os.hostname().split('.')[0] || 'localhost',
    qemuBinary: 'qemu-system-x86_64',
    qemuImgBinary: 'qemu-img',
    accel: 'auto',
    logLevel: 'info',
    logFormat: 'auto',
    stopTimeoutSeconds: 60,
    apiRateLimit: 50,
    authFailuresPerMinute: 10,
    tls: 'auto',
    insecureHttp: false,
    migrationMemoryReserveMiB: 256,
    pathRoots: [] as string[],
    auditRetentionDays: 90,
    historyIntervalSeconds: 10,
    metricsCacheSeconds: 10,
    libvirtDiskRoot: '/var/lib/polyvisor/libvirt',
    // libvirt's `default`: a root daemon with ip, nft and dnsmasq makes it on its first start (test and bench daemons say 0).
    defaultNetwork: true,
    forwardWrites: true,
    qemuUser: defaultQemuUser(src.euid),
    qemuUidBase: 2_000_000_000,
    qemuUidCount: 65_536,
    numaBalancing: 'report',
    numaBalancingIntervalSeconds: 60,
    numaBalancingSamples: 3,
    store: { kind: 'sqlite' } as StoreConfig,
  };
  const fileName = src.file ?? env['POLYVISOR_CONFIG'];
  const fromFile = fileName ? readConfigFile(fileName) : {};
  const fromEnv: Record<string, string> = {};
  for (const [k, key] of Object.entries(ENV)) if (env[k] !== undefined && env[k] !== '') fromEnv[key] = env[k];
  const merged = { ...defaults, ...fromFile, ...fromEnv, ...stripUndefined(src.flags ?? {}) };
  const res = configSchema.safeParse(merged);
  if (!res.success) {
    const p = problemsOf(res.error);
    fail('CONFIG_INVALID', `invalid config: ${p.map((x) => `${x.field}: ${x.message}`).join('; ')}`, { details: p });
  }
  const c = res.data;
  const stateDir = path.resolve(c.stateDir);
  return {
    ...c,
    tls: resolveTls(c.listen, c.tls, c.insecureHttp),
    stateDir,
    socket: path.resolve(c.socket ?? socketIn(stateDir)),
    vmsDir: c.vmsDir ?? path.join(stateDir, 'vms'),
    dbFile: path.join(stateDir, 'polyvisor.db'),
    cacheDir: path.join(stateDir, 'cache'),
    pathRoots: c.pathRoots.map((p) => path.resolve(p)),
  };
}

function readConfigFile(file: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    fail('CONFIG_INVALID', `cannot read config file ${file}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) fail('CONFIG_INVALID', `config file ${file} must be a mapping`);
  return doc as Record<string, unknown>;
}

function stripUndefined(o: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

/**
 * Whether the TCP listener serves HTTPS. Beyond loopback the API carries tokens
 * and migration keys, so plain HTTP there needs `insecureHttp` said out loud;
 * `tls: false` without it is refused rather than quietly exposed.
 */
function resolveTls(listen: string, tls: boolean | 'auto', insecureHttp: boolean): boolean {
  const tcp = splitListen(listen);
  const beyond = tcp !== null && !isLoopbackHost(tcp.host);
  if (tls === 'auto') return beyond && !insecureHttp;
  if (!tls && beyond && !insecureHttp) {
    fail('CONFIG_INVALID', `listen ${listen} reaches beyond this machine, and tls is off: tokens would cross the network in clear`, {
      hint: 'drop "tls: false" (the daemon then serves HTTPS with a generated certificate), or say --insecure-http (POLYVISOR_INSECURE_HTTP=1) to serve plain HTTP anyway',
    });
  }
  return tls;
}

/** Splits "127.0.0.1:8006" into host and port. */
export function splitListen(listen: string): { host: string; port: number } | null {
  if (listen === 'off') return null;
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(listen.slice(i + 1)) };
}
