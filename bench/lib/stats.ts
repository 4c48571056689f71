/** Small summaries of a list of timings (milliseconds). */

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
}

export function summarize(values: number[]): Summary {
  if (values.length === 0) throw new Error('no samples');
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { n: s.length, median, min: s[0]!, max: s[s.length - 1]! };
}

/** Milliseconds as seconds with three decimals: 3412.7 → "3.413". */
export const secs = (ms: number): string => (ms / 1000).toFixed(3);

/** a/b with three decimals. */
export const ratio = (a: number, b: number): string => (a / b).toFixed(3);

/** Signed percentage of a over b: 1.034 → "+3.4%". */
export function overheadPct(a: number, b: number): string {
  const pct = (a / b - 1) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;
}
