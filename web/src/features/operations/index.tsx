/** Operations (tasks): a tree entry with the count of running ones, the page at /operations (one operation at ?op=ID), a key. */
import { lazy } from 'react';
import { useStore } from '../../api/store.js';
import { navigate } from '../../router.js';
import { registerAction, registerPage, registerTreeSection } from '../../registry.js';

const Operations = lazy(() => import('../../pages/Operations.js'));

registerTreeSection({
  id: 'operations',
  order: 90,
  useNodes: () => {
    const running = useStore((s) => [...s.ops.values()].filter((o) => o.status === 'running').length);
    return [{ id: 'operations', label: 'Tasks', kind: 'operations', to: '/operations', ...(running ? { note: `${running} running` } : {}) }];
  },
});

registerPage({ id: 'operations', pattern: '/operations', title: () => 'Tasks', render: () => <Operations /> });
registerAction({ id: 'go-tasks', label: 'open the task list', key: 't', permission: 'operation:read', run: () => navigate('/operations') });
