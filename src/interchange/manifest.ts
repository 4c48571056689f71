/**
 * OVF/OVA manifests (`.mf`: `SHA256(disk1.vmdk)= 3f…`, SHA1 from older tools,
 * SHA512 from newer ovftool) and `sha256sum`-style SHA256SUMS files: parsed
 * into entries and written back. File names are plain names beside the
 * manifest (no directories, no `..`). Pure.
 */
import { fail } from '../shared/index.js';
import type { ManifestEntry } from './types.js';

const HEX_LENGTH: Record<ManifestEntry['algorithm'], number> = { sha1: 40, sha256: 64, sha512: 128 };
const MAX_ENTRIES = 10_000;

function checkedEntry(file: string, algorithm: ManifestEntry['algorithm'], digest: string, line: number): ManifestEntry {
  if (file === '' || file.startsWith('/') || file.split(/[\\/]/).includes('..')) fail('INTERCHANGE_INVALID', `manifest line ${line}: the file name ${JSON.stringify(file)} points outside the package`);
  const hex = digest.toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex) || hex.length !== HEX_LENGTH[algorithm]) fail('INTERCHANGE_INVALID', `manifest line ${line}: ${JSON.stringify(digest)} is not a ${algorithm.toUpperCase()} digest`);
  return { file, algorithm, digest: hex };
}

/** Entries of an OVF manifest or a SHA256SUMS file. INTERCHANGE_INVALID on a line that is neither, or a file named twice. */
export function parseManifest(text: string): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  const seen = new Set<string>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    if (out.length >= MAX_ENTRIES) fail('INTERCHANGE_INVALID', `the manifest has more than ${MAX_ENTRIES} entries`);
    const ovf = /^(SHA1|SHA256|SHA512)\s*\((.+)\)\s*=\s*([0-9A-Fa-f]+)$/.exec(line);
    const sums = ovf ? null : /^([0-9A-Fa-f]{40,128})\s+\*?(.+)$/.exec(line);
    let entry: ManifestEntry;
    if (ovf) entry = checkedEntry(ovf[2]!, ovf[1]!.toLowerCase() as ManifestEntry['algorithm'], ovf[3]!, i + 1);
    else if (sums) {
      const algorithm = ({ 40: 'sha1', 64: 'sha256', 128: 'sha512' } as const)[sums[1]!.length as 40 | 64 | 128];
      if (algorithm === undefined) fail('INTERCHANGE_INVALID', `manifest line ${i + 1}: a digest of ${sums[1]!.length} hex digits is neither SHA1, SHA256 nor SHA512`);
      entry = checkedEntry(sums[2]!, algorithm, sums[1]!, i + 1);
    } else fail('INTERCHANGE_INVALID', `manifest line ${i + 1} is neither "SHA256(FILE)= DIGEST" nor "DIGEST  FILE": ${JSON.stringify(line.slice(0, 80))}`);
    if (seen.has(entry.file)) fail('INTERCHANGE_INVALID', `manifest line ${i + 1}: ${entry.file} is listed twice`);
    seen.add(entry.file);
    out.push(entry);
  });
  return out;
}

/** An OVF manifest (`ovf` style, what ovftool writes) or a SHA256SUMS file (`sums` style, what sha256sum -c reads). */
export function writeManifest(entries: ManifestEntry[], style: 'ovf' | 'sums' = 'ovf'): string {
  return entries.map((e) => (style === 'ovf' ? `${e.algorithm.toUpperCase()}(${e.file})= ${e.digest}` : `${e.digest}  ${e.file}`)).join('\n') + (entries.length > 0 ? '\n' : '');
}
