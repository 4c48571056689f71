/** A connected Hyper-V endpoint (one host and its peers): the inventory calls and the capability parts. */
import type { EndpointInfo, EndpointSession, ForeignVm } from '../endpoint.js';
import type { HvContext } from './context.js';
import { exporterPart } from './exporter.js';
import { toForeignVm } from './map.js';
import { migrationPart } from './migration.js';
import { powerPart } from './power.js';
import { reconfigurePart } from './reconfigure.js';
import { snapshotsPart } from './snapshots.js';

export function createSession(x: HvContext, close: () => void): EndpointSession {
  return {
    info: async (): Promise<EndpointInfo> => ({
      product: `Microsoft Hyper-V (WMI root\\virtualization\\v2 over WS-Management) on ${x.hosts.map((h) => h.name).join(', ')}`,
      version: 'v2',
      hosts: x.hosts.map((h) => h.name),
    }),
    list: async (signal, opts): Promise<ForeignVm[]> => {
      const per = await Promise.all(x.hosts.map(async (h) => {
        const systems = await x.systems(h, signal);
        if (systems.length === 0) return [];
        return (await x.facts(h, systems, signal, { brief: opts?.brief })).map((f) => toForeignVm(f, opts?.brief));
      }));
      return per.flat();
    },
    get: async (vm, signal) => toForeignVm((await x.factsOf(vm, signal)).facts),
    close: async () => close(),
    power: powerPart(x),
    snapshots: snapshotsPart(x),
    migration: migrationPart(x),
    reconfigure: reconfigurePart(x),
    exporter: exporterPart(x),
  };
}
