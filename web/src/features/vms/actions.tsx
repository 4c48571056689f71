/**
 * What a VM button, a key or the tree does: one path for each, so the page's
 * toolbar and the keyboard ask the same questions. Actions that may lose
 * data ask first and name what would be lost; each request ends in a toast
 * linking to its task.
 */
import { api, enc, errorText } from '../../api/client.js';
import { getState } from '../../api/store.js';
import type { OperationView, VmView } from '../../api/types.js';
import { confirmAction } from '../../components/Confirm.js';
import { taskLink, toast } from '../../components/Toasts.js';
import { bytes } from '../../format.js';
import { navigate } from '../../router.js';

/** Actions that may lose the guest's unsaved data, and what is lost. */
export const RISKY: Record<string, string> = {
  stop: 'The guest is asked to shut down; after the timeout it is killed, and unsaved data in it may be lost.',
  kill: 'The QEMU process is killed at once, like pulling the plug: unsaved data in the guest is lost.',
  reboot: 'The guest is reset; programs running in it lose unsaved data.',
};
export const ORDER = ['start', 'stop', 'pause', 'resume', 'reboot', 'suspend', 'kill'];

const title = (action: string, vm: string): string => `${action[0]!.toUpperCase()}${action.slice(1)} ${vm}?`;

/** Runs `action` on the VM (asking first when it is risky); resolves to the error text, or '' when it was sent or declined. */
export async function vmAction(vm: VmView, action: string): Promise<string> {
  const risk = RISKY[action];
  if (risk && !(await confirmAction(title(action, vm.name), <p>{risk}</p>, action))) return '';
  try {
    const op = await api<OperationView>('POST', `/v1/vms/${enc(vm.name)}/${action}?async=true`, {});
    toast(`${action} of ${vm.name} requested`, op?.id ? { link: taskLink(op.id) } : {});
    return '';
  } catch (err) {
    const text = errorText(err);
    toast(`${action} of ${vm.name} failed: ${text}`, { kind: 'error' });
    return text;
  }
}

/** The disks a delete removes (those Polyvisor created, `size`) and those it keeps (existing images given by `path`). */
export function diskFate(vm: VmView): { lost: string[]; kept: string[] } {
  const lost: string[] = [];
  const kept: string[] = [];
  for (const d of vm.spec.disks) {
    if (d.path) kept.push(`${d.name} (${d.path})`);
    else lost.push(`${d.name} (${d.size ? bytes(Number(d.size)) : d.media})`);
  }
  return { lost, kept };
}

export async function removeVm(vm: VmView): Promise<string> {
  const { lost, kept } = diskFate(vm);
  const body = (
    <>
      <p>The VM {vm.name} is deleted with its snapshots. This cannot be undone.</p>
      <p data-testid="lost-disks">{lost.length ? <>Disks deleted: <b>{lost.join(', ')}</b>.</> : 'It has no disks of its own to delete.'}</p>
      {kept.length > 0 && <p className="small">Kept (images it only used): {kept.join(', ')}.</p>}
    </>
  );
  if (!(await confirmAction(`Delete ${vm.name}?`, body, 'Delete'))) return '';
  try {
    await api('DELETE', `/v1/vms/${enc(vm.name)}`);
    toast(`${vm.name} deleted`);
    navigate('/');
    return '';
  } catch (err) {
    return errorText(err);
  }
}

/** The VM named by a page's params, if the store has it. */
export const vmOf = (params: Record<string, string>): VmView | undefined => (params['name'] ? getState().vms.get(params['name']) : undefined);
