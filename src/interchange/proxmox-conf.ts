/**
 * Proxmox VE qemu-server `.conf` text ↔ its parts: the description (leading
 * `#` lines), `key: value` lines of the current config, and the names of the
 * sections after it (snapshots, `[PENDING]`), plus property strings
 * (`virtio=BC:24:11:00:00:01,bridge=vmbr0`). Pure.
 */
import { fail } from '../shared/index.js';

export interface PveConf {
  description: string;
  /** Keys in file order. */
  entries: Map<string, { value: string; line: number }>;
  sections: string[];
}

export function parsePveConf(text: string): PveConf {
  const entries = new Map<string, { value: string; line: number }>();
  const sections: string[] = [];
  const desc: string[] = [];
  let inMain = true;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trimEnd();
    if (line.trim() === '') return;
    const section = /^\[([^\]]+)\]$/.exec(line.trim());
    if (section) { inMain = false; sections.push(section[1]!); return; }
    if (!inMain) return;
    if (line.startsWith('#')) { desc.push(decodePercent(line.slice(1))); return; }
    const m = /^([a-z][a-z0-9_-]*):\s*(.*)$/.exec(line);
    if (!m) fail('INTERCHANGE_INVALID', `the Proxmox config's line ${i + 1} is not "key: value": ${JSON.stringify(line.slice(0, 80))}`);
    if (entries.has(m[1]!)) fail('INTERCHANGE_INVALID', `the Proxmox config sets ${m[1]} twice (line ${i + 1})`);
    entries.set(m[1]!, { value: m[2]!, line: i + 1 });
  });
  if (entries.size === 0) fail('INTERCHANGE_INVALID', 'the Proxmox config has no settings');
  return { description: desc.join('\n'), entries, sections };
}

function decodePercent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/%(?![0-9A-Fa-f]{2})/g, '%25'));
  } catch {
    return s;
  }
}

/** `%`, and characters a conf line cannot hold, percent-encoded (what Proxmox does with a description). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const encodeDescriptionLine = (s: string): string => s.replace(/[%\x00-\x1f\x7f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);

/** `a,b=c,d=e` → the first bare item (if any) and the key=value pairs, in order. */
export function propertyString(value: string): { first?: string; props: Map<string, string> } {
  const props = new Map<string, string>();
  let first: string | undefined;
  value.split(',').forEach((part, i) => {
    const eq = part.indexOf('=');
    if (eq < 0) {
      if (i === 0) first = part;
      else props.set(part, '');
      return;
    }
    const k = part.slice(0, eq);
    if (i === 0 && !/^[a-z][a-z0-9_-]*$/.test(k)) first = part;
    else props.set(k, part.slice(eq + 1));
  });
  return { ...(first === undefined ? {} : { first }), props };
}

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Bytes of a Proxmox size (`32G`, `528K`, `1.5T`; bare numbers are bytes). */
export function pveSize(s: string | undefined): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(s ?? '');
  if (!m) return undefined;
  const n = Math.round(Number(m[1]) * UNITS[m[2]!]!);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Bytes → the largest whole Proxmox unit (`32G`, `1536M`). */
export function pveSizeText(bytes: number): string {
  for (const [u, f] of [['T', 1024 ** 4], ['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) {
    if (bytes % f === 0) return `${bytes / f}${u}`;
  }
  return String(bytes);
}
