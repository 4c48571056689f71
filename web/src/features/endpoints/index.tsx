/**
 * Endpoints (issue 17): other hypervisors in the tree — Endpoints → each
 * endpoint (its driver, reachable or not) → its VMs — and the page at
 * /endpoints (list, add, test, remove, the VMs of every endpoint with their
 * allowed actions); key `e`. This daemon's own VMs stay under Datacenter.
 */
import { lazy, useMemo } from 'react';
import { navigate } from '../../router.js';
import { matchesView, registerAction, registerPage, registerTreeSection, type TreeNode } from '../../registry.js';
import { useEndpointData } from './data.js';

const EndpointsPage = lazy(() => import('./EndpointsPage.js'));

registerTreeSection({
  id: 'endpoints',
  order: 20,
  useNodes: (view) => {
    const d = useEndpointData();
    return useMemo(() => {
      if (d.loaded !== true) return [];
      const kids: TreeNode[] = d.endpoints.map((e) => {
        const vms = d.inventory.vms.filter((v) => v.endpoint === e.name).sort((a, b) => a.name.localeCompare(b.name));
        const shown: TreeNode[] = vms.filter((v) => matchesView(view, v.ref, {}, v.state)).map((v) => ({
          id: `foreign/${v.ref}`, label: v.name, kind: 'foreign-vm', state: v.state, note: v.driver, to: `/endpoints?endpoint=${encodeURIComponent(e.name)}`,
        }));
        const state = e.status === null ? undefined : e.status.reachable ? 'running' : 'error';
        return {
          id: `endpoint/${e.name}`, label: e.name, kind: 'endpoint', ...(state ? { state } : {}), to: `/endpoints?endpoint=${encodeURIComponent(e.name)}`,
          note: `${e.driver} · ${view.search || view.state !== 'all' ? `${shown.length} of ${vms.length}` : vms.length}`, children: shown,
        };
      });
      return [{ id: 'endpoints', label: 'Endpoints', kind: 'endpoints', to: '/endpoints', note: String(d.endpoints.length), children: kids }];
    }, [d, view]);
  },
});

registerPage({ id: 'endpoints', pattern: '/endpoints', title: () => 'Endpoints', render: () => <EndpointsPage /> });

registerAction({ id: 'go-endpoints', label: 'go to the endpoints', key: 'e', run: () => navigate('/endpoints') });
