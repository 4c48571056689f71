/**
 * Guest-RAM locality from /proc/PID/maps and /proc/PID/numa_maps (pure).
 *
 * numa_maps has one line per mapping: its start address, the policy, then
 * tokens such as `anon=N`, `N0=pages`, `N1=pages`, `kernelpagesize_kB=4`
 * (numa(7)). It gives no end address, so the ranges come from maps: QEMU
 * maps each RAM block (boot RAM, each guest NUMA node's backend, each DIMM)
 * as one readable, writable, not executable mapping, anonymous or a memfd
 * (`/memfd:NAME (deleted)`), of exactly the block's size. Guest RAM is taken
 * to be those mappings of at least `minBytes` (the smallest block the VM
 * has, at most 64 MiB): everything else QEMU maps is smaller (thread stacks
 * 8 MiB, malloc arenas up to 64 MiB, mostly reserved) or executable (TCG's
 * 1 GiB code buffer is rwx) or a file or [heap].
 */

export interface MapRange {
  start: number;
  end: number;
  perms: string;
  path: string;
}

/** Lines of /proc/PID/maps: `start-end perms offset dev inode [path]`. */
export function parseMaps(text: string): MapRange[] {
  const out: MapRange[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+\S+\s+\S+\s+\S+\s*(.*)$/.exec(line);
    if (!m) continue;
    out.push({ start: parseInt(m[1]!, 16), end: parseInt(m[2]!, 16), perms: m[3]!, path: m[4]!.trim() });
  }
  return out;
}

/** Whether a mapping can be a guest RAM block: rw, not executable, anonymous or a memfd, at least minBytes. */
export function isGuestRam(r: MapRange, minBytes: number): boolean {
  if (r.end - r.start < minBytes) return false;
  if (r.perms[0] !== 'r' || r.perms[1] !== 'w' || r.perms[2] === 'x') return false;
  return r.path === '' || r.path.startsWith('/memfd:');
}

/** Bytes per host node of one numa_maps line (N<node>=<pages> times its kernelpagesize_kB). */
export function numaLineBytes(line: string): Map<number, number> {
  const out = new Map<number, number>();
  const kb = /\bkernelpagesize_kB=(\d+)/.exec(line);
  const pageBytes = (kb ? Number(kb[1]) : 4) * 1024;
  for (const m of line.matchAll(/\bN(\d+)=(\d+)/g)) out.set(Number(m[1]), (out.get(Number(m[1])) ?? 0) + Number(m[2]) * pageBytes);
  return out;
}

/** Resident bytes per host node, summed over the numa_maps lines whose mapping is guest RAM. */
export function guestRamByNode(mapsText: string, numaMapsText: string, minBytes: number): Map<number, number> {
  const ram = new Set(parseMaps(mapsText).filter((r) => isGuestRam(r, minBytes)).map((r) => r.start));
  const out = new Map<number, number>();
  for (const line of numaMapsText.split('\n')) {
    const addr = /^([0-9a-f]+)\s/.exec(line);
    if (!addr || !ram.has(parseInt(addr[1]!, 16))) continue;
    for (const [node, bytes] of numaLineBytes(line)) out.set(node, (out.get(node) ?? 0) + bytes);
  }
  return out;
}

/**
 * Locality of guest RAM: the share on nodes other than `boundNodes` (the
 * nodes the spec binds it to), or, when it binds none, other than the node
 * holding the most (lowest id on a tie).
 */
export function localityOf(byNode: ReadonlyMap<number, number>, boundNodes: readonly number[]) {
  const nodes = [...byNode].filter(([, b]) => b > 0).sort((a, b) => a[0] - b[0]).map(([node, bytes]) => ({ node, bytes }));
  const total = nodes.reduce((s, n) => s + n.bytes, 0);
  const bound = boundNodes.length > 0;
  let home = [...boundNodes];
  if (!bound) {
    const top = nodes.reduce<{ node: number; bytes: number } | undefined>((best, n) => (!best || n.bytes > best.bytes ? n : best), undefined);
    home = top ? [top.node] : [];
  }
  const remoteBytes = nodes.filter((n) => !home.includes(n.node)).reduce((s, n) => s + n.bytes, 0);
  return { nodes, home, bound, remoteBytes, remoteRatio: total === 0 ? 0 : remoteBytes / total };
}
