/** Where cluster membership and elections live in the cluster store (docs/cluster-store.md). */
export const CLUSTER_PREFIX = '/polyvisor/v1/';

export function clusterKeys(prefix = CLUSTER_PREFIX) {
  const p = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return {
    hosts: `${p}hosts/`,
    host: (name: string) => `${p}hosts/${name}`,
    /** Candidates of election `name`: one key per candidate's lease, the lowest create revision leads. */
    election: (name: string) => `${p}election/${name}/`,
  };
}

export type ClusterKeys = ReturnType<typeof clusterKeys>;
