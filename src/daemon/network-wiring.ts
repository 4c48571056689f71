/**
 * Virtual networks in the daemon (issue 18): the NetworkService on the
 * store's network tables and, when this daemon can build networks (root, and
 * ip, nft and dnsmasq installed), the Linux host plumbing. Otherwise networks
 * can still be listed, and creating one or starting a VM on one answers
 * NETWORK_UNAVAILABLE.
 */
import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NetworkService, type NetworkServiceOptions } from '../lifecycle/index.js';
import { LinuxHostNetworks, hostCommandRunner, parseHostRoutes, type CommandRunner, type OverlayOptions } from '../network/index.js';
import { findExecutable, type Logger } from '../shared/index.js';
import type { NetworkStore, VmRecord } from '../store/index.js';

const TOOLS = ['ip', 'nft', 'dnsmasq'];
const NETWORK_STORE_METHODS = ['createNetwork', 'listNetworks', 'listNicAllocations', 'putNicAllocation'] as const;

function isNetworkStore(store: unknown): store is NetworkStore {
  return typeof store === 'object' && store !== null && NETWORK_STORE_METHODS.every((m) => typeof (store as Record<string, unknown>)[m] === 'function');
}

/** Why this daemon cannot build networks, or null when it can. */
export async function networkBlocker(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'the daemon does not run as root';
  for (const t of TOOLS) if (!(await findExecutable(t))) return `${t} is not installed`;
  return null;
}

export interface NetworkWiring {
  /** undefined: the store has no network tables (a backend without them). */
  service: NetworkService | undefined;
  /** Why networks cannot be built here (null: they can). */
  blocker: string | null;
}

export async function wireNetworks(o: {
  stateDir: string; store: unknown; vms: () => Promise<VmRecord[]>; logger: Logger; runner?: CommandRunner; tapOwner?: NetworkServiceOptions['tapOwner'];
  /** Cluster members: every member's VMs (a network in use anywhere is not removed) and the VXLAN overlay (overlay-wiring.ts). */
  allVms?: () => Promise<VmRecord[]>; overlay?: OverlayOptions;
}): Promise<NetworkWiring> {
  const log = o.logger.child({ component: 'networks' });
  if (!isNetworkStore(o.store)) {
    log.info({}, 'the store has no network tables: virtual networks are off');
    return { service: undefined, blocker: 'the store has no network tables' };
  }
  const blocker = o.runner ? null : await networkBlocker();
  if (blocker !== null) log.info({ reason: blocker }, 'virtual networks cannot be built on this host');
  const runner = o.runner ?? hostCommandRunner();
  const host = blocker === null ? new LinuxHostNetworks({ stateDir: o.stateDir, runner, logger: log, ...(o.overlay ? { overlay: o.overlay } : {}) }) : null;
  const service = new NetworkService({
    store: o.store, vms: o.vms, host, logger: o.logger, ...(o.allVms ? { allVms: o.allVms } : {}),
    ...(o.tapOwner ? { tapOwner: o.tapOwner } : {}),
    hostRoutes: async () => parseHostRoutes((await runner.run('ip', ['-j', '-4', 'route', 'show', 'table', 'all'], { allowFail: true })).stdout),
  });
  return { service, blocker };
}

/**
 * libvirt's `default` network, once: on the first start of a daemon that can
 * build networks, a NAT network named `default` on a subnet no host route
 * uses. A marker in the state directory remembers it was made, so an
 * administrator who removes it does not get it back at the next start.
 */
export async function ensureDefaultNetworkOnce(stateDir: string, networks: NetworkService, logger: Logger): Promise<void> {
  const marker = path.join(stateDir, 'default-network.created');
  if (await access(marker).then(() => true, () => false)) return;
  try {
    const made = await networks.ensureDefault();
    if (made) logger.info({ network: made.name, subnet: made.subnet, bridge: made.bridge }, 'created the default NAT network');
    if (networks.available) await writeFile(marker, `${new Date().toISOString()}\n`, { mode: 0o600 });
  } catch (err) {
    logger.warn({ err }, 'could not create the default network');
  }
}
