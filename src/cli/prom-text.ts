/** A small reader of the Prometheus text format: enough for `polyvisor top`. */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePromText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the samples named `name` per value of label `by` (e.g. per vm). */
export function sumBy(samples: Sample[], name: string, by: string, where: Record<string, string> = {}): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== name || !Object.entries(where).every(([k, v]) => s.labels[k] === v)) continue;
    const key = s.labels[by] ?? '';
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

export function single(samples: Sample[], name: string, where: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))?.value;
}
