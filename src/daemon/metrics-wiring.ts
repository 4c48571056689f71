/** Feeds the MetricsExporter (VM samples and pools on scrape, state changes and operations as they happen) and logs operations with their ids. */
import type { ApiPlatform } from '../api/index.js';
import type { BackupService } from '../backup/index.js';
import type { MigrationService } from '../migration/index.js';
import type { VmService } from '../lifecycle/index.js';
import { MetricsExporter } from '../metrics/index.js';
import type { PoolService } from '../storage/index.js';
import type { Logger } from '../shared/index.js';
import type { EndpointService } from '../endpoints/index.js';
import { LOCAL_ENDPOINT, type HostInventoryView } from '../spec/index.js';
import type { SharedVmSamples } from './vm-samples.js';

export function wireMetrics(o: { version: string; service: VmService; samples: SharedVmSamples; maxAgeMs: number; platform: ApiPlatform; pools: PoolService; backups?: BackupService; migrations?: MigrationService; endpoints?: EndpointService; hostInventory?: () => Promise<HostInventoryView>; logger: Logger }): { exporter: MetricsExporter; close: () => void } {
  const exporter = new MetricsExporter({ version: o.version });
  exporter.setSources({
    vms: () => o.samples.get(o.maxAgeMs), // the history recorder's sampling while it is young enough (vm-samples.ts)
    pools: () => o.pools.listPools(),
    ...(o.backups ? { lastBackups: () => lastBackups(o.service, o.backups!) } : {}),
    ...(o.endpoints ? { foreign: () => foreignSamples(o.endpoints!) } : {}),
    ...(o.hostInventory ? { hostTopology: o.hostInventory } : {}),
  });
  const onState = (c: { vm: string; from: string; to: string; reason: string }): void => exporter.stateChanged(c);
  const onRemoved = (r: { vm: string }): void => exporter.vmRemoved(r.vm);
  const opLog = o.logger.child({ component: 'operations' });
  const running = new Set<string>();
  const onOp = (op: Parameters<MetricsExporter['operationFinished']>[0] & { id: string; actor: string }): void => {
    exporter.operationFinished(op);
    if (op.finishedAt === null) {
      if (running.has(op.id)) return; // a progress update
      running.add(op.id);
      opLog.info({ op: op.id, kind: op.kind, vm: op.vm, actor: op.actor }, 'operation started');
    } else {
      running.delete(op.id);
      opLog.info({ op: op.id, kind: op.kind, vm: op.vm, status: op.status, ms: Date.parse(op.finishedAt) - Date.parse(op.createdAt) }, 'operation finished');
    }
  };
  o.service.states.on('state', onState);
  o.service.states.on('removed', onRemoved);
  o.platform.operations.on('operation', onOp);
  const offMoves = o.migrations?.onFinished((r) => {
    if (r.stats.mirrors) exporter.mirrorsFinished(r.stats.mirrors);
  });
  return {
    exporter,
    close: () => {
      o.service.states.off('state', onState);
      o.service.states.off('removed', onRemoved);
      o.platform.operations.off('operation', onOp);
      offMoves?.();
    },
  };
}

async function lastBackups(service: VmService, backups: BackupService): Promise<Array<{ vm: string; at: number }>> {
  const out: Array<{ vm: string; at: number }> = [];
  for (const rec of await service.list()) {
    const list = await backups.list(rec.name).catch(() => []);
    const at = Math.max(...list.map((b) => (Date.parse(b.createdAt) + b.durationMs) / 1000));
    if (Number.isFinite(at)) out.push({ vm: rec.name, at });
  }
  return out;
}

/**
 * Other endpoints' VMs from the inventory (its cache: a scrape does not hold up on a slow endpoint more than its list timeout);
 * asked per endpoint, so this host's own VMs are not listed a second time.
 */
export async function foreignSamples(endpoints: EndpointService) {
  const eps = (await endpoints.list()).filter((e) => e.name !== LOCAL_ENDPOINT);
  const invs = await Promise.all(eps.map((e) => endpoints.inventory({ endpoint: e.name })));
  const failed = new Set(invs.flatMap((inv) => inv.errors.map((e) => e.endpoint)));
  return {
    vms: invs.flatMap((inv) => inv.vms).map((v) => ({ endpoint: v.endpoint, driver: v.driver, vm: v.name, state: v.state, cpus: v.cpus, memoryBytes: v.memoryBytes })),
    endpoints: eps.map((e) => ({ endpoint: e.name, up: !failed.has(e.name) })),
  };
}
