/** Parsers for /proc/cpuinfo and the PCI ID database (pci.ids), for the host inventory. Pure. */
import type { HostCpuInfo } from '../../spec/index.js';

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** "4096M" → bytes; a bare number is bytes. */
export function parseSize(s: string): number | undefined {
  const m = /^(\d+)([KMG]?)$/i.exec(s);
  return m ? Number(m[1]) * UNITS[m[2]!.toUpperCase()]! : undefined;
}

/** The first processor's model, vendor and flags; packages and cores counted over all processors. */
export function parseCpuInfo(text: string): HostCpuInfo | undefined {
  const blocks = text.split(/\n\s*\n/).map((b) => {
    const f = new Map<string, string>();
    for (const line of b.split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) f.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
    }
    return f;
  }).filter((f) => f.has('processor'));
  const first = blocks[0];
  if (!first) return undefined;
  const sockets = new Set(blocks.map((b) => b.get('physical id') ?? '0'));
  const cores = new Set(blocks.map((b) => `${b.get('physical id') ?? '0'}/${b.get('core id') ?? b.get('processor')}`));
  return {
    model: first.get('model name') ?? first.get('cpu model') ?? '',
    vendor: first.get('vendor_id') ?? first.get('vendor') ?? '',
    flags: (first.get('flags') ?? first.get('Features') ?? '').split(/\s+/).filter(Boolean),
    sockets: sockets.size,
    cores: cores.size,
  };
}

export interface PciVendorNames {
  name: string;
  devices: Map<string, string>;
}

/** Vendor and device names of pci.ids for the vendors asked (lowercase hex ids). */
export function parsePciIds(db: string, vendors: ReadonlySet<string>): Map<string, PciVendorNames> {
  const out = new Map<string, PciVendorNames>();
  let cur: PciVendorNames | undefined;
  for (const line of db.split('\n')) {
    if (line.startsWith('C ')) break; // the device classes follow the vendors
    const v = /^([0-9a-f]{4})\s+(.+)$/.exec(line);
    if (v) {
      cur = vendors.has(v[1]!) ? { name: v[2]!, devices: new Map() } : undefined;
      if (cur) out.set(v[1]!, cur);
      continue;
    }
    const d = cur && /^\t([0-9a-f]{4})\s+(.+)$/.exec(line);
    if (d) cur!.devices.set(d[1]!, d[2]!);
  }
  return out;
}
