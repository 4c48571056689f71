/** VMs: their pages (the VM with its tabs, create, edit, clone) and actions with keys; the tree shows them under their host (features/datacenter). */
import { lazy } from 'react';
import { getState } from '../../api/store.js';
import { navigate } from '../../router.js';
import { registerAction, registerPage, type ActionContext } from '../../registry.js';
import { CreatePage } from '../wizard/index.js';
import { removeVm, vmAction, vmOf } from './actions.js';

const VmPage = lazy(() => import('../../pages/VmPage.js'));
const CreateVm = lazy(() => import('../../pages/CreateVm.js'));

registerPage({ id: 'vm', pattern: '/vms/:name', title: (p) => `VM ${p['name']}`, render: (p) => <VmPage key={p['name']} name={p['name']!} /> });
registerPage({ id: 'vm-edit', pattern: '/vms/:name/edit', title: (p) => `Edit ${p['name']}`, render: (p) => <CreateVm key={`e-${p['name']}`} from={p['name']!} mode="edit" /> });
registerPage({ id: 'vm-clone', pattern: '/vms/:name/clone', title: (p) => `Clone ${p['name']}`, render: (p) => <CreateVm key={`c-${p['name']}`} from={p['name']!} mode="clone" /> });
registerPage({ id: 'create', pattern: '/create', title: () => 'Create VM', render: () => <CreatePage /> });

/** A key on the VM page runs one of the VM's actions, when its state allows it. */
const onVm = (action: string, key: string, label: string): void => registerAction({
  id: `vm.${action}`, label, key, page: 'vm', permission: 'vm:operate',
  enabled: (ctx: ActionContext) => vmOf(ctx.params)?.actions.includes(action) ?? false,
  run: async (ctx: ActionContext) => {
    const vm = vmOf(ctx.params);
    if (vm) await vmAction(vm, action);
  },
});
onVm('start', 's', 'start the VM');
onVm('stop', 'x', 'stop the VM (asks first)');
onVm('kill', 'k', 'kill the VM (asks first)');
onVm('pause', 'p', 'pause the VM');
onVm('resume', 'u', 'resume the VM');
onVm('reboot', 'r', 'reboot the VM (asks first)');
registerAction({
  id: 'vm.delete', label: 'delete the VM and its disks (asks first, naming them)', key: 'D', page: 'vm', permission: 'vm:write',
  enabled: (ctx) => { const s = vmOf(ctx.params)?.state; return s !== undefined && s !== 'running' && s !== 'paused'; },
  run: async (ctx) => { const vm = vmOf(ctx.params); if (vm) await removeVm(vm); },
});
registerAction({ id: 'create', label: 'create a VM', key: 'c', permission: 'vm:write', run: () => navigate('/create') });
registerAction({
  id: 'vm.next', label: 'open the next VM', key: 'j',
  run: (ctx) => step(ctx, 1),
});
registerAction({ id: 'vm.previous', label: 'open the previous VM', key: 'J', run: (ctx) => step(ctx, -1) });

function step(ctx: ActionContext, by: number): void {
  const names = [...getState().vms.keys()].sort();
  if (!names.length) return;
  const i = ctx.params['name'] ? names.indexOf(ctx.params['name']) : -1;
  const next = names[(i + by + names.length) % names.length]!;
  navigate(`/vms/${encodeURIComponent(next)}`);
}
