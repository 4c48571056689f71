/**
 * Virtual networks (issue 18): Networks in the tree (each network with its
 * mode and subnet) and the page at /networks (list, create, a network's NICs
 * and DHCP leases, delete). `?network=NAME` opens one network.
 */
import { lazy, useMemo } from 'react';
import { registerPage, registerTreeSection, type TreeNode } from '../../registry.js';
import { useNetworks } from './data.js';

const NetworksPage = lazy(() => import('./NetworksPage.js'));

registerTreeSection({
  id: 'networks',
  order: 45,
  useNodes: (view) => {
    const d = useNetworks();
    return useMemo(() => {
      if (d.loaded !== true) return [];
      const q = view.search.trim().toLowerCase();
      const kids: TreeNode[] = d.networks.filter((n) => !q || n.name.toLowerCase().includes(q)).map((n) => ({
        id: `network/${n.name}`, label: n.name, kind: 'network', to: `/networks?network=${encodeURIComponent(n.name)}`,
        note: `${n.mode}${n.subnet ? ` · ${n.subnet}` : ''}`,
      }));
      return [{ id: 'networks', label: 'Networks', kind: 'networks', to: '/networks', note: String(d.networks.length), children: kids }];
    }, [d, view]);
  },
});

registerPage({ id: 'networks', pattern: '/networks', title: () => 'Networks', render: () => <NetworksPage /> });
