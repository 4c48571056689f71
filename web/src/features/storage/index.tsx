/** Storage: the pools in the tree (read once per login, and again when the storage page changes them) and the page at /storage. */
import { lazy, useEffect, useState } from 'react';
import { api } from '../../api/client.js';
import { useCan, useStore } from '../../api/store.js';
import type { PoolView } from '../../api/types.js';
import { bytes } from '../../format.js';
import { registerPage, registerTreeSection, type TreeNode } from '../../registry.js';

const Storage = lazy(() => import('../../pages/Storage.js'));

registerTreeSection({
  id: 'storage',
  order: 50,
  useNodes: (view) => {
    const [pools, setPools] = useState<PoolView[]>([]);
    const live = useStore((s) => s.live);
    const mayRead = useCan('storage:read');
    useEffect(() => {
      if (live !== 'live' || !mayRead) return;
      api<PoolView[]>('GET', '/v1/pools').then(setPools, () => setPools([]));
    }, [live, mayRead]);
    const q = view.search.trim().toLowerCase();
    const kids: TreeNode[] = pools.filter((p) => !q || p.name.toLowerCase().includes(q)).map((p) => ({
      id: `pool/${p.name}`, label: p.name, kind: 'pool', to: `/storage?pool=${encodeURIComponent(p.name)}`, note: `${bytes(p.freeBytes)} free`,
    }));
    return [{ id: 'storage', label: 'Storage', kind: 'storage', to: '/storage', children: kids }];
  },
});

registerPage({ id: 'storage', pattern: '/storage', title: () => 'Storage', render: () => <Storage /> });
