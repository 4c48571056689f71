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
    /** Networks spanning the cluster (docs/networks.md "Across cluster hosts"): the record, the bridge it owns, its VNI. */
    networks: `${p}networks/`,
    network: (name: string) => `${p}networks/${name}`,
    networkBridge: (bridge: string) => `${p}network-bridges/${bridge}`,
    networkVniSeq: `${p}network-vni-seq`,
    /** NIC allocations `network-nics/VM/NIC`, and each reserved address `network-ips/NETWORK/IP` → VM/NIC. */
    networkNics: `${p}network-nics/`,
    networkNic: (vm: string, nic: string) => `${p}network-nics/${vm}/${nic}`,
    networkIp: (network: string, ip: string) => `${p}network-ips/${network}/${ip}`,
  };
}

export type Keys = ReturnType<typeof keysUnder>;
