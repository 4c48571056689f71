/**
 * Declarative stacks (issue 21): Stacks in the tree (each stack with its VM
 * count) and the page at /stacks: the stacks, one stack's members with their
 * state, address and readiness and its dependency graph, destroy (asked
 * first), and a stack file planned before it is applied. `?stack=NAME` opens
 * one stack.
 */
import { lazy, useMemo } from 'react';
import { registerPage, registerTreeSection, type TreeNode } from '../../registry.js';
import { useStacks } from './data.js';

const StacksPage = lazy(() => import('./StacksPage.js'));

registerTreeSection({
  id: 'stacks',
  order: 47,
  useNodes: (view) => {
    const d = useStacks();
    return useMemo(() => {
      if (d.loaded === null) return [];
      const q = view.search.trim().toLowerCase();
      const kids: TreeNode[] = d.stacks.filter((s) => !q || s.stack.toLowerCase().includes(q)).map((s) => ({
        id: `stack/${s.stack}`, label: s.stack, kind: 'stack', to: `/stacks?stack=${encodeURIComponent(s.stack)}`, note: `${s.vms} VM${s.vms === 1 ? '' : 's'}`,
      }));
      return [{ id: 'stacks', label: 'Stacks', kind: 'stacks', to: '/stacks', note: String(d.stacks.length), children: kids }];
    }, [d, view]);
  },
});

registerPage({ id: 'stacks', pattern: '/stacks', title: () => 'Stacks', render: () => <StacksPage /> });
