/** The create wizard: at /create?wizard (the /create route is the daemon's; the query picks the wizard), and the key `w`. */
import { lazy } from 'react';
import { navigate, useQuery } from '../../router.js';
import { registerAction } from '../../registry.js';

const Wizard = lazy(() => import('./Wizard.js'));
const CreateVm = lazy(() => import('../../pages/CreateVm.js'));

/** `/create`: the wizard with `?wizard`, else the form generated from the spec's schema. */
export function CreatePage() {
  return useQuery('wizard') !== null ? <Wizard /> : <CreateVm key="new" mode="create" />;
}

registerAction({ id: 'create.wizard', label: 'create a VM step by step', key: 'w', permission: 'vm:write', run: () => navigate('/create?wizard') });
