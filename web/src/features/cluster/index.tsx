/** The cluster view (issue 19): /cluster with every host's state, capacity bars, VMs and the cordon/uncordon/drain buttons. */
import { lazy } from 'react';
import { registerPage, registerTreeSection } from '../../registry.js';

const ClusterPage = lazy(() => import('./ClusterPage.js'));

registerTreeSection({ id: 'cluster', order: 15, useNodes: () => [{ id: 'cluster', label: 'Cluster', kind: 'cluster', to: '/cluster' }] });

registerPage({ id: 'cluster', pattern: '/cluster', title: () => 'Cluster', render: () => <ClusterPage /> });
