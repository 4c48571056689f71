/**
 * Power actions on a foreign VM, by the names the local API uses (start, stop,
 * kill, pause, resume, suspend, reboot), each mapped to the capability that
 * gates it and to the session call that does it.
 */
import type { Capability, CapabilityMatrix, EndpointSession, ForeignPower } from '../drivers/index.js';
import { fail } from '../shared/index.js';

export const FOREIGN_ACTIONS = ['start', 'stop', 'kill', 'pause', 'resume', 'suspend', 'reboot'] as const;
export type ForeignAction = (typeof FOREIGN_ACTIONS)[number];

export const ACTION_CAPABILITY: Record<ForeignAction, Capability> = {
  start: 'power.start',
  stop: 'power.stop',
  kill: 'power.kill',
  pause: 'power.pause',
  resume: 'power.pause',
  suspend: 'power.suspend',
  reboot: 'power.reboot',
};

const METHOD: Record<ForeignAction, keyof ForeignPower> = {
  start: 'start',
  stop: 'shutdown',
  kill: 'kill',
  pause: 'pause',
  resume: 'resume',
  suspend: 'suspend',
  reboot: 'reboot',
};

export function isForeignAction(a: string): a is ForeignAction {
  return (FOREIGN_ACTIONS as readonly string[]).includes(a);
}

/** Calls the session's method for `action`; a driver whose matrix lies gets a plain Error (a bug, caught by the conformance suite). */
export async function runPower(s: EndpointSession, action: ForeignAction, vm: string, signal: AbortSignal): Promise<void> {
  const fn = s.power?.[METHOD[action]];
  if (!fn) throw new Error(`the session has no power.${METHOD[action]} although its matrix says ${ACTION_CAPABILITY[action]}`);
  await fn.call(s.power, vm, signal);
}

/** Which capabilities apply to a VM in `state` (the inventory's `actions`, the web UI's buttons). */
export function actionsFor(m: CapabilityMatrix, state: string): string[] {
  const want: Capability[] = [];
  if (state === 'stopped' || state === 'suspended') want.push('power.start', 'snapshot.create', 'snapshot.revert', 'clone', 'reconfigure', 'move.toLocal', 'migrate.live');
  if (state === 'running') want.push('power.stop', 'power.kill', 'power.pause', 'power.suspend', 'power.reboot', 'console.serial', 'console.graphical', 'snapshot.create', 'snapshot.memory', 'migrate.live');
  if (state === 'paused') want.push('power.pause', 'power.kill', 'snapshot.create');
  return want.filter((c) => m[c].supported);
}

/** Splits "ENDPOINT/NAME"; INVALID_ARGUMENT when it is not one. */
export function splitRef(ref: string): { endpoint: string; vm: string } {
  const i = ref.indexOf('/');
  if (i <= 0 || i === ref.length - 1) fail('INVALID_ARGUMENT', `"${ref}" is not ENDPOINT/NAME`);
  return { endpoint: ref.slice(0, i), vm: ref.slice(i + 1) };
}

/** A foreign VM's name as it may travel in a URL and reach a driver: 1-255 characters, no control characters. */
export function checkForeignName(vm: string): string {
  if (typeof vm !== 'string' || vm.length === 0 || vm.length > 255 || [...vm].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) {
    fail('INVALID_NAME', `VM name ${JSON.stringify(vm)} is not valid: 1-255 characters without control characters`);
  }
  return vm;
}
