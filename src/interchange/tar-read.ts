/**
 * A tar reader for OVA and XVA packages that trusts nothing in them. It
 * lists members by reading the 512-byte headers only (data is skipped by
 * offset, never buffered), understands ustar and GNU headers, pax extended
 * headers (`path`, `size`) and GNU long names, and refuses with
 * INTERCHANGE_INVALID: absolute names, `..`, backslashes or NUL in names,
 * links, devices, FIFOs and sparse files, names given twice, sizes past the
 * end of the file or past 2^53, bad header checksums, and an archive without
 * its end blocks (truncated). Members are then copied out one by one
 * (extract-members.ts) into a folder the caller made.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { fail } from '../shared/index.js';

export interface TarMember {
  /** Normalized relative name (no leading `./`, `/` separators). */
  name: string;
  /** Byte offset of the member's data in the archive. */
  offset: number;
  size: number;
}

const BLOCK = 512;
export const TAR_MAX_MEMBERS = 100_000;
const PAX_MAX_BYTES = 1024 * 1024;

const bad = (file: string, what: string): never => fail('INTERCHANGE_INVALID', `${file}: ${what}`);

/** A name a member may have: relative, without `..`, backslash or NUL. Returns it normalized. */
export function checkMemberName(file: string, raw: string): string {
  let name = raw;
  while (name.startsWith('./')) name = name.slice(2);
  name = name.replace(/\/+$/, '');
  if (name === '' || name === '.') bad(file, `a member has an empty name (${JSON.stringify(raw)})`);
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) bad(file, `the member ${JSON.stringify(raw)} has an absolute name; refused (it would be written outside the import folder)`);
  if (/[\\\0]/.test(name)) bad(file, `the member name ${JSON.stringify(raw)} holds a backslash or NUL; refused`);
  const parts = name.split('/');
  if (parts.includes('..')) bad(file, `the member ${JSON.stringify(raw)} names a parent folder (..); refused (it would be written outside the import folder)`);
  if (parts.some((p) => p === '' || p === '.')) bad(file, `the member name ${JSON.stringify(raw)} has an empty or "." part`);
  if (Buffer.byteLength(name) > 4096) bad(file, 'a member name is longer than 4096 bytes');
  return name;
}

function cString(buf: Buffer, start: number, len: number): string {
  const field = buf.subarray(start, start + len);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

/** A numeric header field: octal text, or GNU base-256 (high bit set). Refused past 2^53. */
function numberField(file: string, buf: Buffer, start: number, len: number, what: string): number {
  const field = buf.subarray(start, start + len);
  if ((field[0]! & 0x80) !== 0) {
    if ((field[0]! & 0x40) !== 0) bad(file, `a negative ${what} in a tar header`);
    let v = BigInt(field[0]! & 0x3f);
    for (let i = 1; i < len; i++) v = (v << 8n) | BigInt(field[i]!);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) bad(file, `a tar header's ${what} (${v}) is past 2^53 bytes`);
    return Number(v);
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) bad(file, `a tar header's ${what} ${JSON.stringify(text)} is not an octal number`);
  const v = parseInt(text, 8);
  if (!Number.isSafeInteger(v)) bad(file, `a tar header's ${what} is past 2^53`);
  return v;
}

function checksumOk(buf: Buffer, stored: number): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : buf[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** Records of a pax extended header: `LEN key=value\n`…, strictly checked. */
export function parsePax(file: string, data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break; // padding some writers leave
    const space = data.indexOf(0x20, pos);
    const lenText = space < 0 ? '' : data.subarray(pos, space).toString('latin1');
    const len = /^[1-9][0-9]{0,7}$/.test(lenText) ? parseInt(lenText, 10) : NaN;
    if (!Number.isFinite(len) || pos + len > data.length || data[pos + len - 1] !== 0x0a) bad(file, 'a pax extended header is garbled');
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq <= 0) bad(file, 'a pax extended header record has no key');
    out.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return out;
}

async function readAt(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === len ? buf : buf.subarray(0, got);
}

const KIND: Record<string, string> = {
  '1': 'a hard link', '2': 'a symbolic link', '3': 'a character device', '4': 'a block device', '6': 'a FIFO',
  K: 'a GNU long link name', S: 'a GNU sparse file', V: 'a volume label', M: 'a multi-volume continuation', N: 'an old GNU long name',
};

/**
 * The regular files of a tar archive, in archive order. Directories are checked and left out. Reads headers only.
 * `maxMembers`: an XVA holds two members per MiB of disk data (chunk and checksum), so it allows more.
 */
export async function listTar(file: string, maxMembers = TAR_MAX_MEMBERS): Promise<TarMember[]> {
  const total = (await stat(file)).size;
  const fh = await open(file, 'r');
  try {
    const members: TarMember[] = [];
    const seen = new Set<string>();
    let pos = 0;
    let count = 0;
    let longName: string | undefined;
    let pax = new Map<string, string>();
    for (;;) {
      if (pos + BLOCK > total) bad(file, `truncated: the archive ends at byte ${total} without its end-of-archive blocks`);
      const h = await readAt(fh, pos, BLOCK);
      if (h.length < BLOCK) bad(file, `truncated: a header at byte ${pos} is cut short`);
      if (h.every((b) => b === 0)) {
        // End of archive: a second zero block, or the end of the file.
        if (pos + 2 * BLOCK <= total) {
          const next = await readAt(fh, pos + BLOCK, BLOCK);
          if (!next.every((b) => b === 0)) bad(file, `a lone zero block at byte ${pos} inside the archive`);
        }
        return members;
      }
      if (++count > maxMembers) bad(file, `more than ${maxMembers} members`);
      const magic = h.subarray(257, 263).toString('latin1');
      if (magic !== 'ustar\0' && magic !== 'ustar ') bad(file, `the header at byte ${pos} is not a ustar/pax tar header (is this an OVA/XVA?)`);
      if (!checksumOk(h, numberField(file, h, 148, 8, 'checksum'))) bad(file, `the header at byte ${pos} fails its checksum (corrupt or not a tar archive)`);
      const type = String.fromCharCode(h[156]!);
      let size = numberField(file, h, 124, 12, 'size');
      if (type !== 'x' && type !== 'g' && pax.has('size')) {
        const s = pax.get('size')!;
        if (!/^[0-9]{1,16}$/.test(s) || !Number.isSafeInteger(Number(s))) bad(file, `a pax size ${JSON.stringify(s)} is not a size below 2^53`);
        size = Number(s);
      }
      const dataAt = pos + BLOCK;
      if (dataAt + size > total) bad(file, `truncated: a member at byte ${pos} claims ${size} bytes but the file ends ${total - dataAt} bytes later`);
      const next = dataAt + Math.ceil(size / BLOCK) * BLOCK;
      if (type === 'x' || type === 'g' || type === 'L') {
        if (size > PAX_MAX_BYTES) bad(file, `an extended header of ${size} bytes (at most ${PAX_MAX_BYTES})`);
        const data = await readAt(fh, dataAt, size);
        if (type === 'x') pax = parsePax(file, data);
        else if (type === 'g') parsePax(file, data); // checked; global defaults are not used
        else longName = cString(data, 0, data.length);
        pos = next;
        continue;
      }
      const ustarName = cString(h, 0, 100);
      const prefix = magic === 'ustar\0' ? cString(h, 345, 155) : '';
      const raw = pax.get('path') ?? longName ?? (prefix === '' ? ustarName : `${prefix}/${ustarName}`);
      pax = new Map();
      longName = undefined;
      const kind = KIND[type];
      if (kind !== undefined) bad(file, `the member ${JSON.stringify(raw)} is ${kind}; an OVA holds regular files only`);
      if (type !== '0' && type !== '\0' && type !== '7' && type !== '5') bad(file, `the member ${JSON.stringify(raw)} has the unknown tar type ${JSON.stringify(type)}`);
      const name = checkMemberName(file, raw);
      if (seen.has(name)) bad(file, `the member ${name} is in the archive twice; refused (which one counts is ambiguous)`);
      seen.add(name);
      if (type !== '5') members.push({ name, offset: dataAt, size });
      pos = next;
    }
  } finally {
    await fh.close();
  }
}

/** A small member's bytes (a descriptor or manifest), refused past `max`. */
export async function readMember(file: string, m: TarMember, max: number): Promise<Buffer> {
  if (m.size > max) bad(file, `the member ${m.name} is ${m.size} bytes; at most ${max} expected`);
  const fh = await open(file, 'r');
  try {
    const buf = await readAt(fh, m.offset, m.size);
    if (buf.length !== m.size) bad(file, `truncated: the member ${m.name} is cut short`);
    return buf;
  } finally {
    await fh.close();
  }
}
