/**
 * Datastore paths and vmdk descriptors. Pure.
 *
 * "[LocalDS_0] vm1/disk1.vmdk" names a file on a datastore; vCenter serves it
 * at /folder/vm1/disk1.vmdk?dcPath=DC0&dsName=LocalDS_0 (datastore HTTP
 * access). A `.vmdk` is either a whole sparse disk ("KDMV" magic), a
 * streamOptimized one (also KDMV), or a text descriptor naming extents — a
 * flat one ("RW 2048 FLAT "vm1-flat.vmdk" 0", "VMFS" on ESXi) holds the raw
 * bytes.
 */
export interface DatastorePath {
  datastore: string;
  /** The path inside the datastore, "/"-separated, no leading slash. */
  path: string;
}

export function parseDatastorePath(s: string): DatastorePath | null {
  const m = /^\[([^\]]+)\]\s*(.*)$/.exec(s.trim());
  if (!m || !m[2]) return null;
  const path = m[2].replace(/^\/+/, '');
  if (path.split('/').some((seg) => seg === '..')) return null;
  return { datastore: m[1]!, path };
}

/** The request path of a datastore file for vCenter's /folder handler. */
export function folderUrlPath(p: DatastorePath, dcPath: string): string {
  const segs = p.path.split('/').map(encodeURIComponent).join('/');
  return `/folder/${segs}?dcPath=${encodeURIComponent(dcPath)}&dsName=${encodeURIComponent(p.datastore)}`;
}

export interface VmdkExtent {
  access: string;
  sectors: number;
  type: string;
  file: string;
  offset: number;
}

/** What the first bytes of a `.vmdk` say it is. */
export type VmdkKind = { kind: 'sparse' } | { kind: 'descriptor'; extents: VmdkExtent[]; createType: string | null } | { kind: 'empty' } | { kind: 'unknown' };

export function sniffVmdk(head: Buffer): VmdkKind {
  if (head.length === 0) return { kind: 'empty' };
  if (head.subarray(0, 4).toString('latin1') === 'KDMV') return { kind: 'sparse' };
  const t = head.toString('latin1');
  if (!/^#\s*Disk DescriptorFile/m.test(t)) return { kind: 'unknown' };
  const extents: VmdkExtent[] = [];
  for (const line of t.split(/\r?\n/)) {
    const m = /^(RW|RDONLY|NOACCESS)\s+(\d+)\s+(\w+)\s+"([^"]+)"(?:\s+(\d+))?/.exec(line.trim());
    if (m) extents.push({ access: m[1]!, sectors: Number(m[2]), type: m[3]!, file: m[4]!, offset: Number(m[5] ?? 0) });
  }
  const ct = /^createType\s*=\s*"([^"]*)"/m.exec(t);
  return { kind: 'descriptor', extents, createType: ct ? ct[1]! : null };
}

/** The sibling file `name` of a datastore path (an extent named by its descriptor); null if it would leave the folder. */
export function sibling(p: DatastorePath, name: string): DatastorePath | null {
  if (name.includes('/') || name === '..' || name === '.') return null;
  const dir = p.path.includes('/') ? p.path.slice(0, p.path.lastIndexOf('/') + 1) : '';
  return { datastore: p.datastore, path: dir + name };
}
