/**
 * Power: start (restores a managed save when there is one), ACPI shutdown,
 * destroy (pull the plug), suspend/resume of the vCPUs, managed save (RAM to
 * disk, the domain stops; the next start restores it) and an ACPI reboot.
 */
import type { ForeignPower } from '../endpoint.js';
import { checkName, type LibvirtContext } from './context.js';
import { LONG_TIMEOUT_MS } from './virsh.js';

export function powerPart(ctx: LibvirtContext): ForeignPower {
  const act = (args: string[], long = false) => async (vm: string, signal: AbortSignal): Promise<void> => {
    const h = await ctx.locate(checkName('VM', vm), signal);
    await h.virsh.call([...args, '--domain', vm], signal, long ? { timeoutMs: LONG_TIMEOUT_MS } : {});
  };
  return {
    start: act(['start']),
    shutdown: act(['shutdown', '--mode', 'acpi']),
    kill: act(['destroy']),
    pause: act(['suspend']),
    resume: act(['resume']),
    suspend: act(['managedsave'], true),
    reboot: act(['reboot', '--mode', 'acpi']),
  };
}
