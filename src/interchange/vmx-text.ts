/**
 * The VMX file's syntax: `key = "value"` lines, keys case-insensitive, values
 * escaped with `|XX` (hex) for quotes, bars, `#` and control characters. Pure.
 */
import { fail } from '../shared/index.js';

const MAX_LINES = 20_000;

/** Lower-cased key → value. INTERCHANGE_INVALID on a line that is not `key = "value"`, or NUL bytes (a binary file). */
export function parseVmx(text: string): Map<string, { key: string; value: string; line: number }> {
  if (text.includes('\0')) fail('INTERCHANGE_INVALID', 'the VMX file holds NUL bytes: it is not a text configuration');
  const out = new Map<string, { key: string; value: string; line: number }>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.length > MAX_LINES) fail('INTERCHANGE_INVALID', `the VMX file has ${lines.length} lines; more than ${MAX_LINES} is not a VM configuration`);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^([A-Za-z0-9_.:[\]-]+)\s*=\s*(?:"([^"]*)"|([^\s"#]*))\s*(?:#.*)?$/.exec(line);
    if (!m) fail('INTERCHANGE_INVALID', `VMX line ${i + 1} is not key = "value": ${JSON.stringify(line.slice(0, 80))}`);
    out.set(m[1]!.toLowerCase(), { key: m[1]!, value: unescapeVmx(m[2] ?? m[3] ?? ''), line: i + 1 });
  });
  if (out.size === 0) fail('INTERCHANGE_INVALID', 'the VMX file is empty');
  return out;
}

export const unescapeVmx = (v: string): string => v.replace(/\|([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));

/** VMware's escaping: `|`, `"`, `#` and characters outside printable ASCII become |XX (UTF-8 bytes). */
export function escapeVmx(v: string): string {
  let out = '';
  for (const byte of Buffer.from(v, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += byte < 0x20 || byte > 0x7e || c === '|' || c === '"' || c === '#' ? `|${byte.toString(16).toUpperCase().padStart(2, '0')}` : c;
  }
  return out;
}

export const isTrue = (v: string | undefined): boolean => /^(true|yes|1)$/i.test(v ?? '');
