/** Sizes as users write them: 512Mi, 1Gi, 262084Ki, 10G (powers of 1024), or a plain number of bytes. */
const UNITS: Record<string, number> = {
  '': 1, B: 1,
  K: 1024, Ki: 1024, KiB: 1024, KB: 1024,
  M: 1024 ** 2, Mi: 1024 ** 2, MiB: 1024 ** 2, MB: 1024 ** 2,
  G: 1024 ** 3, Gi: 1024 ** 3, GiB: 1024 ** 3, GB: 1024 ** 3,
  T: 1024 ** 4, Ti: 1024 ** 4, TiB: 1024 ** 4, TB: 1024 ** 4,
};
export const SIZE_PATTERN = /^(\d+)\s*([KMGT]i?B?|B)?$/;

/** Bytes for a size string, or undefined if it is not one. */
export function parseSize(text: string): number | undefined {
  const m = SIZE_PATTERN.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * (UNITS[m[2] ?? ''] ?? NaN);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The shortest exact IEC form: 268435456 → "256Mi", 268374016 → "262084Ki". */
export function formatSize(bytes: number): string {
  for (const [suffix, mult] of [['Ti', 1024 ** 4], ['Gi', 1024 ** 3], ['Mi', 1024 ** 2], ['Ki', 1024]] as const) {
    if (bytes >= mult && bytes % mult === 0) return `${bytes / mult}${suffix}`;
  }
  return String(bytes);
}
