/**
 * Power through XAPI's VM messages, each an Async.* call followed through
 * its task: start (VM.start, or VM.resume for a suspended VM), clean_shutdown,
 * hard_shutdown, pause/unpause, suspend, clean_reboot. XAPI refuses a wrong
 * state with VM_BAD_POWER_STATE: INVALID_TRANSITION.
 */
import type { ForeignPower } from '../endpoint.js';
import type { XcpContext } from './context.js';

export function powerPart(x: XcpContext): ForeignPower {
  const op = (method: string, args: (ref: string) => unknown[], verb: string) => async (vm: string, s: AbortSignal): Promise<void> => {
    const { ref } = await x.resolve(vm, s);
    await x.run(method, args(ref), `${verb} ${vm}`, s);
  };
  return {
    start: async (vm, s) => {
      const { ref, rec } = await x.resolve(vm, s);
      if (rec.power_state === 'Suspended') await x.run('VM.resume', [ref, false, false], `resume ${vm}`, s);
      else await x.run('VM.start', [ref, false, false], `start ${vm}`, s);
    },
    shutdown: op('VM.clean_shutdown', (r) => [r], 'shut down'),
    kill: op('VM.hard_shutdown', (r) => [r], 'power off'),
    pause: async (vm, s) => {
      const { ref } = await x.resolve(vm, s);
      await x.client.call('VM.pause', [ref], s, `pause ${vm}`);
    },
    resume: async (vm, s) => {
      const { ref } = await x.resolve(vm, s);
      await x.client.call('VM.unpause', [ref], s, `unpause ${vm}`);
    },
    suspend: op('VM.suspend', (r) => [r], 'suspend'),
    reboot: op('VM.clean_reboot', (r) => [r], 'reboot'),
  };
}
