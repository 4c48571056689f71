/**
 * The resource tree on the left: the sections features registered
 * (datacenter → host → VMs, storage → pools, operations…), narrowed by a
 * search (`/` focuses it; Enter opens the first match), a state filter and a
 * grouping by state or by a label's value. Nested lists of links: Tab walks
 * them, each group has a button that folds it. A list of many leaves is
 * windowed (TreeWindow.tsx): only the rows in view are in the document.
 */
import { useMemo, useState, type KeyboardEvent } from 'react';
import { useStore } from '../api/store.js';
import { treeSections, type TreeNode, type TreeSection, type TreeView } from '../registry.js';
import { navigate, useLocation } from '../router.js';
import { Link } from './Link.js';
import { WINDOW_FROM, WindowedList } from './TreeWindow.js';

const STATES = ['all', 'running', 'stopped', 'created', 'paused', 'suspended', 'migrating', 'error'];

export function ResourceTree({ onPick }: { onPick?: () => void }) {
  const [view, setView] = useState<TreeView>({ search: '', group: 'none', state: 'all' });
  const [folded, setFolded] = useState<ReadonlySet<string>>(new Set());
  const vms = useStore((s) => s.vms);
  const labelKeys = useMemo(() => [...new Set([...vms.values()].flatMap((v) => Object.keys(v.spec.labels)))].sort(), [vms]);
  const fold = (id: string): void => setFolded((f) => { const n = new Set(f); if (n.has(id)) n.delete(id); else n.add(id); return n; });
  const enter = (e: KeyboardEvent<HTMLInputElement>): void => {
    if (e.key === 'Escape') { setView({ ...view, search: '' }); e.currentTarget.blur(); return; }
    if (e.key !== 'Enter') return;
    const first = document.querySelector<HTMLAnchorElement>('#resource-tree .rtree a[data-kind=vm]');
    if (first) { e.preventDefault(); navigate(first.getAttribute('href')!); onPick?.(); }
  };
  return (
    <nav aria-label="Resources" id="resource-tree" className="tree-pane">
      <div className="tree-tools" role="search">
        <label className="tree-search">
          <span className="sr-only">Search resources</span>
          <input type="search" id="tree-search" placeholder="Search  ( / )" value={view.search} onChange={(e) => setView({ ...view, search: e.target.value })} onKeyDown={enter} aria-keyshortcuts="/" autoComplete="off" />
        </label>
        <div className="row">
          <label className="inline">Group
            <select value={view.group} onChange={(e) => setView({ ...view, group: e.target.value })} aria-label="Group VMs by">
              <option value="none">none</option>
              <option value="state">state</option>
              {labelKeys.map((k) => <option key={k} value={`label:${k}`}>label {k}</option>)}
            </select>
          </label>
          <label className="inline">State
            <select value={view.state} onChange={(e) => setView({ ...view, state: e.target.value })} aria-label="Show VMs in state">
              {STATES.map((s) => <option key={s} value={s}>{s}</option>)}
            </select>
          </label>
        </div>
      </div>
      <ul className="rtree">
        {treeSections().map((s) => <Section key={s.id} section={s} view={view} folded={folded} fold={fold} onPick={onPick} />)}
      </ul>
    </nav>
  );
}

function Section({ section, view, folded, fold, onPick }: { section: TreeSection; view: TreeView; folded: ReadonlySet<string>; fold: (id: string) => void; onPick: (() => void) | undefined }) {
  const nodes = section.useNodes(view);
  return <>{nodes.map((n) => <Node key={n.id} node={n} folded={folded} fold={fold} onPick={onPick} />)}</>;
}

function Node({ node, folded, fold, onPick }: { node: TreeNode; folded: ReadonlySet<string>; fold: (id: string) => void; onPick: (() => void) | undefined }) {
  const loc = useLocation();
  const open = !folded.has(node.id);
  const kids = node.children ?? [];
  const here = node.to !== undefined && node.to === loc;
  const label = (
    <>
      {node.state && <span className={`dot s-${node.state}`} aria-hidden="true" />}
      <span className="tn-label">{node.label}</span>
      {node.state && <span className="sr-only"> ({node.state})</span>}
      {node.note && <span className="tn-note">{node.note}</span>}
    </>
  );
  return (
    <li className={`tn tn-${node.kind}`}>
      <div className="tn-row">
        {kids.length > 0
          ? <button type="button" className="tn-fold" aria-expanded={open} aria-label={`${open ? 'Fold' : 'Unfold'} ${node.label}`} onClick={() => fold(node.id)}>{open ? '▾' : '▸'}</button>
          : <span className="tn-fold" aria-hidden="true" />}
        {node.to !== undefined
          ? <Link to={node.to} className="tn-link" data-kind={node.kind} data-node={node.id} aria-current={here ? 'page' : undefined} onClick={() => onPick?.()}>{label}</Link>
          : <span className="tn-link" data-kind={node.kind}>{label}</span>}
      </div>
      {kids.length > 0 && open && (kids.length >= WINDOW_FROM && kids.every((c) => !c.children?.length)
        // Hundreds of leaves (VMs under a host or a group): only the rows in view are rendered.
        ? <WindowedList items={kids} render={(c) => <Node key={c.id} node={c} folded={folded} fold={fold} onPick={onPick} />} />
        : <ul>{kids.map((c) => <Node key={c.id} node={c} folded={folded} fold={fold} onPick={onPick} />)}</ul>)}
    </li>
  );
}
