/**
 * The VXLAN overlay of a cluster member (issue 19, docs/networks.md "Across
 * cluster hosts"): this member's overlay address is the IPv4 address its API
 * listens on (the fabric other members already reach it by), published as
 * the host fact `overlayAddress`; the peers are the live members' published
 * addresses. Members join and leave: the live list is read every
 * OVERLAY_REFRESH_MS and the flood lists are made again when it changed.
 */
import type { NetworkService } from '../lifecycle/index.js';
import { parseIp, type OverlayOptions } from '../network/index.js';
import type { Logger } from '../shared/index.js';
import type { ClusterHost } from './cluster-wiring.js';
import { splitListen, type DaemonConfig } from './config.js';

export const OVERLAY_FACT = 'overlayAddress';
/** How often a member looks for members that joined or left (one etcd range read). */
export const OVERLAY_REFRESH_MS = 2_000;

/** The overlay address: the listen address when it is a routable IPv4 address (not loopback, not the wildcard). */
export function overlayAddressOf(config: Pick<DaemonConfig, 'listen' | 'store'>): string | null {
  if (config.store.kind !== 'etcd') return null;
  const host = splitListen(config.listen)?.host ?? '';
  if (parseIp(host) === null || host === '0.0.0.0' || host.startsWith('127.')) return null;
  return host;
}

export interface ClusterOverlay {
  options: OverlayOptions;
  /** After joining: publishes this member's address, syncs once, then follows joins and leaves. Returns the stop function. */
  start(cluster: ClusterHost, networks: NetworkService, log: Logger): Promise<() => void>;
}

export function clusterOverlay(config: Pick<DaemonConfig, 'listen' | 'store'>): ClusterOverlay | undefined {
  const local = overlayAddressOf(config);
  if (local === null) return undefined;
  let directory: ClusterHost['directory'] | undefined;
  const peers = async (): Promise<string[]> => {
    if (!directory) return [];
    const live = await directory.live();
    return live.map((h) => h.facts[OVERLAY_FACT]).filter((a): a is string => typeof a === 'string' && parseIp(a) !== null).sort();
  };
  return {
    options: { local: () => local, peers },
    async start(cluster, networks, log) {
      await cluster.publish({ [OVERLAY_FACT]: local });
      directory = cluster.directory;
      let last = '';
      let busy = false;
      let warned = false;
      const tick = async () => {
        if (busy) return; // a read slower than the period (no quorum) does not pile up
        busy = true;
        try {
          const now = (await peers()).join(',');
          warned = false;
          if (now === last) return;
          await networks.refreshOverlay();
          last = now;
          log.info({ peers: now }, 'overlay members changed');
        } catch (err) {
          if (!warned) log.warn({ err }, 'overlay refresh failed (retried every period; logged again after a success)');
          warned = true;
        } finally {
          busy = false;
        }
      };
      await tick();
      const timer = setInterval(() => void tick(), OVERLAY_REFRESH_MS);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
