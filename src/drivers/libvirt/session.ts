/** A connected libvirt endpoint: inventory plus one part per capability (matrix.ts). */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { EndpointSession } from '../endpoint.js';
import { clonePart } from './clone.js';
import { consolesPart } from './console.js';
import type { LibvirtContext } from './context.js';
import { eventsPart } from './events.js';
import { exporterPart } from './exporter.js';
import { importerPart } from './importer.js';
import { endpointInfo, getVm, listVms } from './inventory.js';
import { metricsPart } from './metrics.js';
import { migrationPart } from './migration.js';
import { powerPart } from './power.js';
import { reconfigurePart } from './reconfigure.js';
import { snapshotsPart } from './snapshots.js';

export function libvirtSession(ctx: LibvirtContext, authFile: string | null): EndpointSession {
  return {
    info: (signal) => endpointInfo(ctx, signal),
    list: (signal) => listVms(ctx, signal),
    get: (vm, signal) => getVm(ctx, vm, signal),
    close: async () => {
      for (const h of ctx.hosts) h.virsh.close();
      if (authFile) await rm(path.dirname(authFile), { recursive: true, force: true });
    },
    power: powerPart(ctx),
    snapshots: snapshotsPart(ctx),
    consoles: consolesPart(ctx),
    migration: migrationPart(ctx),
    reconfigure: reconfigurePart(ctx),
    clone: clonePart(ctx),
    exporter: exporterPart(ctx),
    importer: importerPart(ctx),
    events: eventsPart(ctx),
    metrics: metricsPart(ctx),
  };
}
