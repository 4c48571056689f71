/** How numbers read in the UI. */
export function bytes(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}
export const rate = (n: number | undefined): string => (n === undefined ? '—' : `${bytes(n)}/s`);
export const pct = (f: number | undefined): string => (f === undefined ? '—' : `${(f * 100).toFixed(f < 0.1 ? 1 : 0)}%`);
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { hour12: false, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
export const last = (xs: readonly number[] | undefined): number | undefined => (xs && xs.length ? xs[xs.length - 1] : undefined);
