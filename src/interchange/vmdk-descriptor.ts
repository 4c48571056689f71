/**
 * VMDK text descriptors (VMware's "Virtual Disk Format 5.0"): createType,
 * extents (monolithic or split, sparse or flat, ZERO/VMFS), the parent of a
 * delta disk, and the disk database (ddb.virtualHWVersion, ddb.adapterType).
 * Works on a separate descriptor file or on the descriptor embedded in a
 * sparse extent (the text up to its first NUL). Extent files must lie beside
 * the descriptor. Pure.
 */
import { fail } from '../shared/index.js';

export interface VmdkExtent {
  access: 'RW' | 'RDONLY' | 'NOACCESS';
  /** Size in 512-byte sectors. */
  sectors: number;
  type: 'SPARSE' | 'FLAT' | 'ZERO' | 'VMFS' | 'VMFSSPARSE' | 'VMFSRDM' | 'VMFSRAW' | 'SESPARSE';
  /** The extent's file, relative to the descriptor; undefined for ZERO. */
  file?: string;
  /** FLAT extents: the offset in sectors into the file. */
  offset?: number;
}

export interface VmdkDescriptor {
  createType: string;
  extents: VmdkExtent[];
  /** Virtual size in bytes: the extents' sectors × 512. */
  capacity: number;
  /** A delta disk's parent (parentFileNameHint), when parentCID is not ffffffff. */
  parent?: string;
  hwVersion?: number;
  adapterType?: string;
  /** Every ddb.* key, as written. */
  ddb: Record<string, string>;
}

const CREATE_TYPES = new Set([
  'monolithicSparse', 'monolithicFlat', 'twoGbMaxExtentSparse', 'twoGbMaxExtentFlat', 'streamOptimized', 'vmfs', 'vmfsSparse', 'vmfsThin',
  'vmfsPreallocated', 'vmfsEagerZeroedThick', 'vmfsRaw', 'vmfsRawDeviceMap', 'vmfsPassthroughRawDeviceMap', 'fullDevice', 'partitionedDevice', 'seSparse', 'custom',
]);
const EXTENT = /^(RW|RDONLY|NOACCESS)\s+(\d{1,20})\s+(SPARSE|FLAT|ZERO|VMFS|VMFSSPARSE|VMFSRDM|VMFSRAW|SESPARSE)(?:\s+"([^"]*)"(?:\s+(\d{1,20}))?)?\s*$/;
const MAX_EXTENTS = 4096;
const MAX_TEXT = 1024 * 1024;

const unquote = (v: string): string => v.trim().replace(/^"(.*)"$/, '$1');

/** A file named by a descriptor, refused unless it lies beside it. */
export function besideDescriptor(file: string, where: string): string {
  if (file === '' || file.startsWith('/') || /^[A-Za-z]:[\\/]/.test(file) || file.split(/[\\/]/).includes('..')) {
    fail('INTERCHANGE_INVALID', `${where}: ${JSON.stringify(file)} is outside the descriptor's directory; only files beside it are read`);
  }
  return file;
}

export function readVmdkDescriptor(text: string): VmdkDescriptor {
  const body = text.split('\0')[0]!.slice(0, MAX_TEXT);
  if (!/createType\s*=/.test(body)) fail('INTERCHANGE_INVALID', 'not a VMDK descriptor (no createType line)');
  const extents: VmdkExtent[] = [];
  const ddb: Record<string, string> = {};
  let createType = '';
  let parentCID = 'ffffffff';
  let parentHint: string | undefined;
  let sectors = 0n;
  body.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const ext = EXTENT.exec(line);
    if (ext) {
      if (extents.length >= MAX_EXTENTS) fail('INTERCHANGE_INVALID', `the VMDK descriptor has more than ${MAX_EXTENTS} extents`);
      const type = ext[3] as VmdkExtent['type'];
      const n = BigInt(ext[2]!);
      sectors += n;
      if (sectors * 512n > BigInt(Number.MAX_SAFE_INTEGER)) fail('INTERCHANGE_INVALID', `VMDK descriptor line ${i + 1}: the extents add up past 2^53 bytes`);
      if (type !== 'ZERO' && ext[4] === undefined) fail('INTERCHANGE_INVALID', `VMDK descriptor line ${i + 1}: a ${type} extent needs a file name`);
      extents.push({
        access: ext[1] as VmdkExtent['access'], sectors: Number(n), type,
        ...(ext[4] === undefined ? {} : { file: besideDescriptor(ext[4], `VMDK descriptor line ${i + 1}`) }),
        ...(ext[5] === undefined ? {} : { offset: Number(ext[5]) }),
      });
      return;
    }
    const kv = /^([A-Za-z0-9_.]+)\s*=\s*(.*)$/.exec(line);
    if (!kv) fail('INTERCHANGE_INVALID', `VMDK descriptor line ${i + 1} is neither a key = value nor an extent: ${JSON.stringify(line.slice(0, 80))}`);
    const [, key, value] = kv as unknown as [string, string, string];
    if (key === 'createType') createType = unquote(value);
    else if (key === 'parentCID') parentCID = unquote(value).toLowerCase();
    else if (key === 'parentFileNameHint') parentHint = unquote(value);
    else if (key.startsWith('ddb.')) ddb[key] = unquote(value);
  });
  if (!CREATE_TYPES.has(createType)) fail('INTERCHANGE_INVALID', `the VMDK createType ${JSON.stringify(createType)} is not one VMware defines`);
  if (extents.length === 0) fail('INTERCHANGE_INVALID', 'the VMDK descriptor lists no extent');
  const hw = ddb['ddb.virtualHWVersion'];
  const out: VmdkDescriptor = { createType, extents, capacity: Number(sectors * 512n), ddb };
  if (hw !== undefined && /^\d{1,3}$/.test(hw)) out.hwVersion = Number(hw);
  if (ddb['ddb.adapterType'] !== undefined) out.adapterType = ddb['ddb.adapterType'];
  if (parentCID !== 'ffffffff' && parentHint !== undefined) out.parent = besideDescriptor(parentHint, 'parentFileNameHint');
  return out;
}
