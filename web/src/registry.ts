/**
 * Where features plug into the frame: each feature folder under features/
 * registers its resource-tree section, its pages and its actions (with their
 * keyboard keys) here, and features/index.ts imports the folders. The shell
 * (App.tsx) only reads this registry, so a new kind of object (endpoints,
 * cluster hosts, networks, stacks) is a new folder, not a change to the shell.
 */
import type { ReactNode } from 'react';
import { match } from './router.js';

/** One object in the resource tree. `to` is the client route its page lives at. */
export interface TreeNode {
  id: string;
  label: string;
  to?: string;
  /** What it is: "datacenter", "host", "vm", "pool", "group"…; styles and tests read it. */
  kind: string;
  state?: string;
  labels?: Readonly<Record<string, string>>;
  /** Short text after the label (a count, a size). */
  note?: string;
  children?: TreeNode[];
}

/** How the user narrowed the tree: search text, grouping and a state filter (they apply to VM-like nodes: those with a state). */
export interface TreeView {
  search: string;
  /** "none", "state" or "label:KEY". */
  group: string;
  state: string;
}

export interface TreeSection {
  id: string;
  /** Sections show in ascending order. */
  order: number;
  /** A React hook (called in its own component): the section's top nodes, already narrowed by `view`. */
  useNodes: (view: TreeView) => TreeNode[];
  /** Label keys its objects carry, offered as "group by" choices. */
  useLabelKeys?: () => string[];
}

export interface PageDef {
  id: string;
  /** A client route the daemon serves the shell for, like "/vms/:name" (docs/web-ui.md lists them). */
  pattern: string;
  render: (params: Record<string, string>) => ReactNode;
  /** The page's name in the document title and the landmark's label. */
  title: (params: Record<string, string>) => string;
}

export interface ActionContext {
  page: string;
  params: Record<string, string>;
}

export interface ActionDef {
  id: string;
  label: string;
  /** The key that runs it (a single character as `KeyboardEvent.key` gives it, e.g. "s", "S", "?"). */
  key?: string;
  /** Only on this page (its id); everywhere when absent. */
  page?: string;
  /** Shown and run only when the user's role has it. */
  permission?: string;
  /** False when the object's state does not allow it now. */
  enabled?: (ctx: ActionContext) => boolean;
  run: (ctx: ActionContext) => void | Promise<void>;
}

const sections: TreeSection[] = [];
const pages: PageDef[] = [];
const actions: ActionDef[] = [];

export function registerTreeSection(s: TreeSection): void {
  if (sections.some((x) => x.id === s.id)) throw new Error(`tree section ${s.id} registered twice`);
  sections.push(s);
  sections.sort((a, b) => a.order - b.order);
}

export function registerPage(p: PageDef): void {
  if (pages.some((x) => x.pattern === p.pattern)) throw new Error(`page ${p.pattern} registered twice`);
  pages.push(p);
}

export function registerAction(a: ActionDef): void {
  if (actions.some((x) => x.id === a.id)) throw new Error(`action ${a.id} registered twice`);
  if (a.key && actions.some((x) => x.key === a.key && (x.page === a.page || !x.page || !a.page))) throw new Error(`key ${a.key} of ${a.id} is taken`);
  actions.push(a);
}

export const treeSections = (): readonly TreeSection[] => sections;
export const allActions = (): readonly ActionDef[] => actions;

/** The page for a path; "/" (the datacenter) when nothing else matches. */
export function pageFor(path: string): { page: PageDef; params: Record<string, string> } | null {
  for (const p of pages) {
    const params = match(p.pattern, path);
    if (params) return { page: p, params };
  }
  const home = pages.find((p) => p.pattern === '/');
  return home ? { page: home, params: {} } : null;
}

/** The actions that apply on a page for a user with these permissions. */
export function actionsFor(ctx: ActionContext, permissions: readonly string[]): ActionDef[] {
  return actions.filter((a) => (!a.page || a.page === ctx.page) && (!a.permission || permissions.includes(a.permission)));
}

/** Whether an object with this name, labels and state passes the tree's search and state filter. */
export function matchesView(view: TreeView, name: string, labels: Readonly<Record<string, string>> = {}, state?: string): boolean {
  if (view.state !== 'all' && state !== undefined && state !== view.state) return false;
  const q = view.search.trim().toLowerCase();
  if (!q) return true;
  return name.toLowerCase().includes(q) || Object.entries(labels).some(([k, v]) => `${k}=${v}`.toLowerCase().includes(q)) || (state?.toLowerCase() === q);
}

/** Groups nodes by their state or one label's value ("group" of a TreeView), as "group" nodes. */
export function groupNodes(nodes: TreeNode[], group: string, idPrefix: string): TreeNode[] {
  if (group === 'none') return nodes;
  const key = group.startsWith('label:') ? group.slice('label:'.length) : null;
  const by = new Map<string, TreeNode[]>();
  for (const n of nodes) {
    const g = key ? (n.labels?.[key] !== undefined ? `${key}=${n.labels[key]}` : `no ${key}`) : (n.state ?? 'other');
    by.set(g, [...(by.get(g) ?? []), n]);
  }
  return [...by.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([g, children]) => ({ id: `${idPrefix}/group/${g}`, label: g, kind: 'group', note: String(children.length), children }));
}
