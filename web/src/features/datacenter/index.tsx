/**
 * The datacenter: its tree section (Datacenter → hosts → VMs, narrowed and
 * grouped as the tree asks) and its pages: the overview at `/` and one host
 * at `/?host=NAME` (its VMs and its history). A cluster adds hosts here.
 */
import { useMemo } from 'react';
import { useStore } from '../../api/store.js';
import { navigate } from '../../router.js';
import { groupNodes, matchesView, registerAction, registerPage, registerTreeSection, type TreeNode } from '../../registry.js';
import { Dashboard } from '../../pages/Dashboard.js';

registerTreeSection({
  id: 'datacenter',
  order: 10,
  useNodes: (view) => {
    const vms = useStore((s) => s.vms);
    const health = useStore((s) => s.health);
    return useMemo(() => {
      const hosts = [...new Set([health?.host ?? 'host', ...[...vms.values()].map((v) => v.host)])].sort();
      const all = [...vms.values()].sort((a, b) => a.name.localeCompare(b.name));
      const hostNodes: TreeNode[] = hosts.map((h) => {
        const mine = all.filter((v) => v.host === h);
        const shown: TreeNode[] = mine.filter((v) => matchesView(view, v.name, v.spec.labels, v.state)).map((v) => ({
          id: `vm/${v.name}`, label: v.name, kind: 'vm', state: v.state, labels: v.spec.labels, to: `/vms/${encodeURIComponent(v.name)}`,
        }));
        return { id: `host/${h}`, label: h, kind: 'host', to: `/?host=${encodeURIComponent(h)}`, note: view.search || view.state !== 'all' ? `${shown.length} of ${mine.length}` : String(mine.length), children: groupNodes(shown, view.group, `host/${h}`) };
      });
      return [{ id: 'datacenter', label: 'Datacenter', kind: 'datacenter', to: '/', children: hostNodes }];
    }, [vms, health, view]);
  },
});

registerPage({ id: 'datacenter', pattern: '/', title: () => 'Datacenter', render: () => <Dashboard /> });

registerAction({ id: 'go-home', label: 'go to the datacenter overview', key: 'h', run: () => navigate('/') });
