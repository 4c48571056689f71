/**
 * `--rollback-on-failure`: after a failed apply, remove what THIS apply
 * created — never an object that existed before it (updated, replaced,
 * started or left alone) — in reverse dependency order: the members of the
 * last level first, each level's objects at once; within a member, its VMs
 * before its volumes and networks. Each removal is a step of the report
 * (action `delete`); one that fails is reported and the rest go on.
 */
import { PolyvisorError } from '../shared/index.js';
import type { StackStepView } from '../spec/index.js';
import type { NetworkService, VmService } from '../lifecycle/index.js';
import type { PoolService } from '../storage/index.js';
import type { StackGraph } from './graph.js';

/** An object a `create` step of this apply made. */
export interface CreatedObject {
  kind: StackStepView['kind'];
  member: string;
  name: string;
  pool: string | null;
}

export interface RollbackDeps {
  vms: VmService;
  networks?: NetworkService | undefined;
  pools?: PoolService | undefined;
  disown(kind: 'network' | 'volume', pool: string | null, name: string): Promise<void>;
}

const KIND_ORDER: Record<string, number> = { vm: 0, volume: 1, network: 2 };

async function removeOne(d: RollbackDeps, x: CreatedObject, o: { signal: AbortSignal; stopTimeoutSeconds?: number }): Promise<void> {
  if (x.kind === 'vm') {
    const rec = await d.vms.get(x.name);
    if (rec.state === 'running' || rec.state === 'paused') await d.vms.stop(x.name, { signal: o.signal, timeoutSeconds: o.stopTimeoutSeconds ?? 30, force: true });
    await d.vms.remove(x.name, { force: true });
  } else if (x.kind === 'volume') {
    await d.pools!.deleteVolume(x.pool ?? 'default', x.name);
    await d.disown('volume', x.pool ?? 'default', x.name);
  } else {
    await d.networks!.remove(x.name);
    await d.disown('network', null, x.name);
  }
}

export async function rollBack(d: RollbackDeps, graph: StackGraph, created: readonly CreatedObject[], o: { signal: AbortSignal; stopTimeoutSeconds?: number }): Promise<StackStepView[]> {
  const steps: StackStepView[] = [];
  for (const level of [...graph.order].reverse()) {
    const here = created.filter((x) => level.includes(x.member));
    for (const kind of ['vm', 'volume', 'network']) {
      await Promise.all(here.filter((x) => x.kind === kind).sort((a, b) => KIND_ORDER[a.kind]! - KIND_ORDER[b.kind]!).map(async (x) => {
        const step: StackStepView = { kind: x.kind, member: x.member, name: x.name, action: 'delete', result: 'running', error: null, ms: 0 };
        steps.push(step);
        const t0 = Date.now();
        try {
          await removeOne(d, x, o);
          step.result = 'done';
        } catch (err) {
          const pe = err instanceof PolyvisorError ? err : new PolyvisorError('INTERNAL', (err as Error).message);
          Object.assign(step, { result: 'failed', error: { code: pe.code, message: pe.message } });
        }
        step.ms = Date.now() - t0;
      }));
    }
  }
  return steps;
}
