/** A few lines of history routing: the daemon answers every client route with the same page. */
import { useSyncExternalStore } from 'react';

const subs = new Set<() => void>();
window.addEventListener('popstate', () => subs.forEach((s) => s()));

export function navigate(to: string): void {
  if (to === location.pathname + location.search) return;
  history.pushState(null, '', to);
  subs.forEach((s) => s());
  window.scrollTo(0, 0);
  document.getElementById('main')?.scrollTo(0, 0);
}

const subscribe = (fn: () => void): (() => void) => {
  subs.add(fn);
  return () => subs.delete(fn);
};

export function usePath(): string {
  return useSyncExternalStore(subscribe, () => location.pathname);
}

/** The path with its query ("/storage?pool=default"): what the tree compares its links with. */
export function useLocation(): string {
  return useSyncExternalStore(subscribe, () => location.pathname + location.search);
}

/** One query parameter of the current location, kept current on navigation. */
export function useQuery(name: string): string | null {
  const loc = useLocation();
  return new URLSearchParams(loc.slice(loc.indexOf('?') + 1 || loc.length)).get(name);
}

/** `pattern` like "/vms/:name"; returns the decoded params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const a = path.replace(/\/+$/, '').split('/');
  if (p.length !== a.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const seg = p[i]!;
    if (seg.startsWith(':')) out[seg.slice(1)] = decodeURIComponent(a[i]!);
    else if (seg !== a[i]) return null;
  }
  return out;
}
