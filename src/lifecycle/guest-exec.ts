/** Runs an argv in a running VM's guest through its driver's guest agent (drivers/guest-exec.ts). */
import { canGuestExec, type GuestExecResult } from '../drivers/index.js';
import { fail } from '../shared/index.js';
import type { VmService } from './vm-service.js';

export async function guestExecOf(vms: VmService, name: string, argv: readonly string[], signal: AbortSignal): Promise<GuestExecResult> {
  const rec = await vms.get(name);
  const inst = vms.liveInstance(name);
  if (!inst || rec.state !== 'running') fail('AGENT_UNAVAILABLE', `VM ${name} is ${rec.state}: commands run in its guest only while it runs`);
  if (!canGuestExec(inst)) fail('AGENT_UNAVAILABLE', `the driver of VM ${name} cannot run commands in its guest`);
  return inst.guestExec(argv, signal);
}
