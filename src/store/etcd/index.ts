export { openEtcdStore, type EtcdStore, type EtcdStoreOptions } from './etcd-store.js';
export { EtcdKv } from './etcd-kv.js';
export { prefixEnd } from './codec.js';
export { DEFAULT_ETCD_TIMEOUT_MS, type EtcdConnection, type EtcdTls } from './transport.js';
export { DEFAULT_PREFIX, keysUnder, type Keys } from './keys.js';
