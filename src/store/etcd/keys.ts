/** Where the EtcdStore keeps each kind of record under its prefix (docs/cluster-store.md). */
export const DEFAULT_PREFIX = '/polyvisor/v1/';

export function keysUnder(prefix: string) {
  const p = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return {
    prefix: p,
    vms: `${p}vms/`,
    vm: (name: string) => `${p}vms/${name}`,
    vmId: (id: string) => `${p}vm-ids/${id}`,
    meta: (key: string) => `${p}meta/${key}`,
    tokens: `${p}tokens/`,
    token: (name: string) => `${p}tokens/${name}`,
    tokenHash: (hash: string) => `${p}token-hashes/${hash}`,
    audit: `${p}audit/`,
    /** Audit ids are zero-padded so key order is id order. */
    auditEntry: (id: number) => `${p}audit/${String(id).padStart(16, '0')}`,
    auditSeq: `${p}audit-seq`,
  };
}

export type Keys = ReturnType<typeof keysUnder>;
