/** A running VM's own account of itself, through its driver's guest agent (drivers/guest-info.ts). */
import { canReportGuestInfo, type GuestInfo } from '../drivers/index.js';
import { fail, timeoutSignal } from '../shared/index.js';
import type { VmService } from './vm-service.js';

export async function guestInfoOf(vms: VmService, name: string, signal?: AbortSignal): Promise<GuestInfo> {
  const rec = await vms.get(name);
  const inst = vms.liveInstance(name);
  if (!inst || (rec.state !== 'running' && rec.state !== 'paused')) {
    fail('AGENT_UNAVAILABLE', `VM ${name} is ${rec.state}: its guest agent answers only while it runs`);
  }
  if (!canReportGuestInfo(inst)) fail('AGENT_UNAVAILABLE', `the driver of VM ${name} cannot reach a guest agent`);
  return inst.guestInfo(timeoutSignal(15_000, signal));
}
