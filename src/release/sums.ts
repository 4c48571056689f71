/**
 * SHA256SUMS as `sha256sum` writes and `sha256sum -c` reads it: one "HEX  PATH" line per file
 * (text mode, two spaces; "HEX *PATH", binary mode, is read too). Strict: a release's manifest
 * names only plain relative paths inside the release directory, each once.
 */
import { fail } from '../shared/index.js';

export interface SumsEntry {
  /** Lower-case hex SHA-256. */
  readonly sha256: string;
  /** Relative path with "/" separators, inside the release directory. */
  readonly path: string;
}

export const SUMS_FILE = 'SHA256SUMS';
export const SIGNATURE_FILE = 'SHA256SUMS.sig';

const LINE = /^([0-9a-fA-F]{64}) [ *](.+)$/;

/** Why `p` is not a plain relative path inside the directory, or null when it is. */
export function unsafeSumsPath(p: string): string | null {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(p)) return 'has a control character or backslash';
  if (p.startsWith('/')) return 'is absolute';
  const parts = p.split('/');
  if (parts.some((s) => s === '' || s === '.' || s === '..')) return 'has an empty, "." or ".." segment';
  return null;
}

/** The entries of a SHA256SUMS text; RELEASE_MANIFEST_INVALID naming the first bad line. */
export function parseSums(text: string, source = SUMS_FILE): SumsEntry[] {
  const entries: SumsEntry[] = [];
  const seen = new Set<string>();
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const m = LINE.exec(line);
    if (!m) fail('RELEASE_MANIFEST_INVALID', `${source} line ${i + 1} is not "SHA256  PATH": ${JSON.stringify(line.slice(0, 120))}`);
    const path = m[2]!;
    const why = unsafeSumsPath(path);
    if (why) fail('RELEASE_MANIFEST_INVALID', `${source} line ${i + 1}: path ${JSON.stringify(path)} ${why}`);
    if (seen.has(path)) fail('RELEASE_MANIFEST_INVALID', `${source} line ${i + 1}: ${path} is listed twice`);
    seen.add(path);
    entries.push({ sha256: m[1]!.toLowerCase(), path });
  });
  if (entries.length === 0) fail('RELEASE_MANIFEST_INVALID', `${source} lists no files`);
  return entries;
}

/** The SHA256SUMS text for `entries`, sorted by path (what scripts/release.sh writes). */
export function formatSums(entries: readonly SumsEntry[]): string {
  return [...entries]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => `${e.sha256}  ${e.path}\n`)
    .join('');
}
