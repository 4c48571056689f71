export { PoolService, type PoolServiceOptions, type CloneRequest } from './pool-service.js';
export { PoolCatalogue, DEFAULT_POOL } from './pool-catalogue.js';
export { DirPool } from './dir-pool.js';
export {
  POOL_KINDS,
  VOLUME_FORMATS,
  type PoolKind,
  type PoolConfig,
  type PoolSpace,
  type PoolView,
  type PoolBackend,
  type VolumeFormat,
  type VolumeRef,
  type VolumeView,
  type VolumeOpOptions,
} from './types.js';
