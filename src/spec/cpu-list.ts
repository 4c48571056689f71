/**
 * CPU lists as Linux writes them (`0-3,8,10-11`: sysfs cpulist, taskset -c,
 * QEMU's `cpus=`). Pure.
 */

export const CPU_LIST_PATTERN = /^\d{1,4}(-\d{1,4})?(,\d{1,4}(-\d{1,4})?)*$/;
export const CPU_LIST_RULE = 'a CPU list like "0-3,8,10-11"';

/** The CPUs of a list, ascending and unique; undefined when it is not a list (or a range runs backwards). */
export function parseCpuList(text: string): number[] | undefined {
  const t = text.trim();
  if (t === '') return [];
  if (!CPU_LIST_PATTERN.test(t)) return undefined;
  const out = new Set<number>();
  for (const part of t.split(',')) {
    const [a, b] = part.split('-').map(Number) as [number, number | undefined];
    const end = b ?? a;
    if (end < a) return undefined;
    for (let i = a; i <= end; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/** The shortest list for a set of CPUs: [0,1,2,3,8] → "0-3,8". */
export function formatCpuList(cpus: Iterable<number>): string {
  const sorted = [...new Set(cpus)].sort((x, y) => x - y);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
