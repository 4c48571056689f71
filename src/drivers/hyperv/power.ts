/**
 * Power actions: Msvm_ComputerSystem.RequestStateChange with the v2
 * namespace's RequestedState values, each job followed to its end: 2 Running
 * (start, resume, restore a saved VM), 3 Off (turn off at once), 4 Shut Down
 * (through the guest's shutdown integration service), 6 Saved (RAM to disk),
 * 9 Paused, 11 Reset. A state Hyper-V refuses (32775) is INVALID_TRANSITION.
 */
import type { ForeignPower } from '../endpoint.js';
import { vmRef, type HvContext } from './context.js';

export const REQUESTED = { start: 2, off: 3, shutdown: 4, save: 6, pause: 9, reset: 11 } as const;

export function powerPart(x: HvContext): ForeignPower {
  const act = async (vm: string, state: number, what: string, signal: AbortSignal): Promise<void> => {
    const f = await x.find(vm, signal);
    await x.run(f.host, vmRef(f.guid), 'RequestStateChange', { RequestedState: state }, `${what} ${vm}`, signal);
  };
  return {
    start: (vm, s) => act(vm, REQUESTED.start, 'start', s),
    shutdown: (vm, s) => act(vm, REQUESTED.shutdown, 'shut down', s),
    kill: (vm, s) => act(vm, REQUESTED.off, 'turn off', s),
    pause: (vm, s) => act(vm, REQUESTED.pause, 'pause', s),
    resume: (vm, s) => act(vm, REQUESTED.start, 'resume', s),
    suspend: (vm, s) => act(vm, REQUESTED.save, 'save', s),
    reboot: (vm, s) => act(vm, REQUESTED.reset, 'reset', s),
  };
}
