/**
 * STATE/cluster.json: the cluster store `cluster init` and `cluster join`
 * write for the daemon's next start (docs/cluster.md). It applies when the
 * config names no store (SQLite, the default); a config file that says
 * `store: etcd …` wins, so an operator who manages config files keeps control.
 * `cluster leave` removes it: the next start is a single host again.
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { ClusterStoreSettings } from '../cluster/index.js';
import { fail, writeFileAtomic } from '../shared/index.js';
import type { DaemonConfig } from './config.js';

export const CLUSTER_FILE = 'cluster.json';

const fileSchema = z.object({
  kind: z.literal('etcd'),
  endpoints: z.array(z.string().regex(/^https?:\/\/[^\s/]+$/)).min(1),
  prefix: z.string().regex(/^\/[A-Za-z0-9_./-]*$/),
  leaseTtlSeconds: z.number().int().min(2).max(300).optional(),
}).strict();

/** The config with the cluster file's store applied (when the config keeps the default store). */
export function applyClusterFile(config: DaemonConfig): DaemonConfig {
  if (config.store.kind !== 'sqlite') return config;
  const file = path.join(config.stateDir, CLUSTER_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return config;
  }
  const parsed = fileSchema.safeParse((() => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  })());
  if (!parsed.success) fail('CONFIG_INVALID', `${file} (written by cluster init or join) is not a cluster store setting; fix or remove it`);
  return { ...config, store: parsed.data };
}

export function clusterFileOf(stateDir: string) {
  const file = path.join(stateDir, CLUSTER_FILE);
  return {
    async write(s: ClusterStoreSettings): Promise<string> {
      await writeFileAtomic(file, JSON.stringify(s, null, 2) + '\n', 0o600);
      return file;
    },
    async remove(): Promise<void> {
      await rm(file, { force: true });
    },
  };
}
