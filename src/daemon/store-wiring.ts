/**
 * Opens the store the config names: the embedded SQLite file (default,
 * single host) or the EtcdStore of a cluster (docs/cluster-store.md).
 */
import { readFileSync } from 'node:fs';
import { fail, type Logger } from '../shared/index.js';
import type { AuditStore, ClusterKv, MetaStore, Store, TokenStore } from '../store/index.js';
import { openEtcdStore, type EtcdTls } from '../store/etcd/index.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import type { DaemonConfig, StoreConfig } from './config.js';

export interface OpenedStore {
  store: Store & MetaStore & TokenStore & AuditStore;
  /** For doctor: SQLite's integrity check; etcd answers ['ok'] when a quorum serves a read. */
  integrityCheck(): Promise<string[]>;
  /** The cluster store's key-value side (leases, elections, HA): etcd only. */
  kv?: ClusterKv;
}

function readPem(file: string | undefined, what: string): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    fail('CONFIG_INVALID', `store.tls.${what}: cannot read ${file}`, { cause: err });
  }
}

export function etcdTls(cfg: Extract<StoreConfig, { kind: 'etcd' }>): EtcdTls | undefined {
  if (!cfg.tls) return undefined;
  return { ca: readPem(cfg.tls.ca, 'ca'), cert: readPem(cfg.tls.cert, 'cert'), key: readPem(cfg.tls.key, 'key') };
}

export async function openStore(config: Pick<DaemonConfig, 'store' | 'dbFile'>, logger: Logger): Promise<OpenedStore> {
  const cfg = config.store;
  if (cfg.kind === 'sqlite') {
    const store = openSqliteStore(config.dbFile, { logger });
    return { store, integrityCheck: () => store.integrityCheck() };
  }
  const store = openEtcdStore({ endpoints: cfg.endpoints, prefix: cfg.prefix, timeoutMs: cfg.timeoutMs, tls: etcdTls(cfg) });
  try {
    await store.getMeta('store.probe'); // fail at startup, with STORE_UNAVAILABLE, when no quorum answers
  } catch (err) {
    await store.close();
    throw err;
  }
  logger.info({ endpoints: cfg.endpoints, prefix: cfg.prefix }, 'cluster store (etcd) open');
  return {
    store,
    kv: store.kv,
    integrityCheck: async () => {
      await store.getMeta('store.probe');
      return ['ok'];
    },
  };
}
