/**
 * Runs the NUMA balancer (lifecycle/numa-balancer.ts, docs/topology.md): every
 * interval it takes the shared VM sampling (whose stats carry each QEMU's
 * guest-RAM locality from /proc/PID/numa_maps), and logs or carries out what
 * the balancer decides. One pass at a time; a pass that fails is logged and
 * the next one runs as usual.
 */
import { canMovePages } from '../drivers/index.js';
import { describeNumaDecision, NumaBalancer, type NumaBalancingMode, type NumaDecision, type VmService } from '../lifecycle/index.js';
import { timeoutSignal, type Logger } from '../shared/index.js';
import type { SharedVmSamples } from './vm-samples.js';

export function wireNumaBalancing(o: { service: VmService; samples: SharedVmSamples; mode: NumaBalancingMode; intervalSeconds: number; samplesInARow: number; logger: Logger }): { close: () => void; balancer: NumaBalancer; pass: () => Promise<void> } {
  const log = o.logger.child({ component: 'numa' });
  const balancer = new NumaBalancer({ mode: o.mode, samples: o.samplesInARow });
  if (o.mode === 'off') return { close: () => undefined, balancer, pass: async () => undefined };
  const intervalMs = o.intervalSeconds * 1000;
  let busy = false;
  const act = async (d: NumaDecision): Promise<void> => {
    if (d.action === 'report') return log.warn({ vm: d.vm, from: d.from, to: d.to, remoteRatio: d.remoteRatio }, describeNumaDecision(d));
    const inst = o.service.liveInstance(d.vm);
    if (!inst || !canMovePages(inst)) return log.warn({ vm: d.vm }, describeNumaDecision(d, { error: 'its driver cannot move pages' }));
    try {
      await inst.movePages(d.from, d.to, timeoutSignal(10 * 60_000));
      log.info({ vm: d.vm, from: d.from, to: d.to, remoteRatio: d.remoteRatio }, describeNumaDecision(d, {}));
    } catch (err) {
      log.warn({ vm: d.vm, from: d.from, to: d.to, err }, describeNumaDecision(d, { error: (err as Error).message }));
    }
  };
  const pass = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const vms = await o.samples.get(intervalMs / 2);
      for (const d of balancer.observe(vms.map((v) => ({ name: v.name, state: v.state, numa: v.stats?.numa })))) await act(d);
    } catch (err) {
      log.warn({ err }, 'NUMA balancing pass failed');
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void pass(), intervalMs);
  timer.unref();
  log.debug({ mode: o.mode, intervalSeconds: o.intervalSeconds, samples: o.samplesInARow }, 'NUMA balancing on');
  return { close: () => clearInterval(timer), balancer, pass };
}
