/** A connected XCP-ng pool: info and inventory, and the capability parts. */
import type { EndpointInfo, EndpointSession, ForeignVm } from '../endpoint.js';
import type { XapiClient } from './client.js';
import { isGuest, XcpContext, type Timing } from './context.js';
import { eventsPart } from './events.js';
import { exporterPart } from './exporter.js';
import { toForeignVm } from './map.js';
import { clonePart, migrationPart, reconfigurePart } from './operations.js';
import { powerPart } from './power.js';
import { snapshotsPart } from './snapshots.js';

interface HostRecord {
  name_label: string;
  software_version?: Record<string, string>;
}

export function createSession(client: XapiClient, timing: Timing & { eventPollSeconds?: number }): EndpointSession {
  const x = new XcpContext(client, timing);
  return {
    info: async (signal): Promise<EndpointInfo> => {
      const [pools, hosts] = await Promise.all([
        client.call('pool.get_all_records', [], signal, 'reading the pool') as Promise<Record<string, { name_label: string; master: string }>>,
        client.call('host.get_all_records', [], signal, 'reading hosts') as Promise<Record<string, HostRecord>>,
      ]);
      const pool = Object.values(pools)[0];
      const sv = (pool && hosts[pool.master]?.software_version) || Object.values(hosts)[0]?.software_version || {};
      const version = sv['product_version'] ?? sv['platform_version'] ?? 'unknown';
      return {
        product: `${sv['product_brand'] ?? 'XenServer'} ${version} (xapi ${sv['xapi'] ?? '?'}), pool ${pool?.name_label || '(unnamed)'}`,
        version,
        hosts: Object.values(hosts).map((h) => h.name_label).sort(),
      };
    },
    list: async (signal): Promise<ForeignVm[]> => {
      const [vms, recs] = await Promise.all([x.allVms(signal), x.records(signal)]);
      return Object.values(vms).filter(isGuest).map((r) => toForeignVm(r, recs)).sort((a, b) => a.name.localeCompare(b.name));
    },
    get: async (vm, signal) => {
      const { rec } = await x.resolve(vm, signal);
      return toForeignVm(rec, await x.records(signal));
    },
    close: () => client.close(),
    power: powerPart(x),
    snapshots: snapshotsPart(x),
    migration: migrationPart(x),
    reconfigure: reconfigurePart(x),
    clone: clonePart(x),
    exporter: exporterPart(x),
    events: eventsPart(x, timing.eventPollSeconds),
  };
}
