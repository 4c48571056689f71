/**
 * Power actions: each is a qemu-server call that starts a worker task, which
 * is followed to its end. `shutdown` only asks (ACPI) and returns once
 * Proxmox accepted it; `kill` is status/stop with overrule-shutdown, so it
 * also ends a shutdown still waiting for the guest (Proxmox VE 8.2 and
 * later; an older node refuses the parameter and gets a plain stop).
 */
import { isPolyvisorError } from '../../shared/index.js';
import type { ForeignPower } from '../endpoint.js';
import type { PveContext } from './context.js';

export function powerPart(x: PveContext): ForeignPower {
  const act = async (vm: string, rest: string, params: Record<string, number>, what: string, signal: AbortSignal): Promise<void> => {
    const r = await x.resolve(vm, signal);
    await x.run(r, rest, params, `${what} ${vm}`, signal);
  };
  return {
    start: (vm, s) => act(vm, '/status/start', {}, 'start', s),
    shutdown: async (vm, s) => {
      const r = await x.resolve(vm, s);
      await x.client.post(x.path(r, '/status/shutdown'), {}, s);
    },
    kill: async (vm, s) => {
      const r = await x.resolve(vm, s);
      try {
        await x.run(r, '/status/stop', { 'overrule-shutdown': 1 }, `stop ${vm}`, s);
      } catch (err) {
        if (!isPolyvisorError(err, 'INVALID_ARGUMENT') || !err.message.includes('overrule-shutdown')) throw err;
        await x.run(r, '/status/stop', {}, `stop ${vm}`, s);
      }
    },
    pause: (vm, s) => act(vm, '/status/suspend', {}, 'pause', s),
    resume: (vm, s) => act(vm, '/status/resume', {}, 'resume', s),
    suspend: (vm, s) => act(vm, '/status/suspend', { todisk: 1 }, 'hibernate', s),
    reboot: (vm, s) => act(vm, '/status/reboot', {}, 'reboot', s),
  };
}
