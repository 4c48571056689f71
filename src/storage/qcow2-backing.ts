/**
 * The backing chain of a qcow2 image read from the headers themselves
 * (synchronously, no qemu-img): QEMU must be told how many backing layers
 * an encrypted disk has, since every layer needs its key on the command
 * line (`backing.encrypt.key-secret=…`, `backing.backing.…`).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { fail } from '../shared/index.js';

const MAGIC = 0x514649fb; // "QFI\xfb"
const MAX_CHAIN = 1000;

/** The backing file named in a qcow2 header, as written (relative names stay relative), or null. */
export function qcow2BackingNameSync(file: string): string | null {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(20);
    if (readSync(fd, head, 0, 20, 0) < 20 || head.readUInt32BE(0) !== MAGIC) fail('INVALID_ARGUMENT', `${file} is not a qcow2 image`);
    const offset = Number(head.readBigUInt64BE(8));
    const size = head.readUInt32BE(16);
    if (offset === 0 || size === 0) return null;
    if (size > 1023) fail('INVALID_ARGUMENT', `${file}: its backing file name is ${size} bytes long`);
    const name = Buffer.alloc(size);
    if (readSync(fd, name, 0, size, offset) < size) fail('INVALID_ARGUMENT', `${file}: its header is cut short`);
    return name.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The backing images below `file`, nearest first, as absolute paths (names resolve against each image's folder). */
export function qcow2BackingChainSync(file: string): string[] {
  const out: string[] = [];
  for (let cur = file, b = qcow2BackingNameSync(cur); b !== null; b = qcow2BackingNameSync(cur)) {
    cur = path.resolve(path.dirname(cur), b);
    out.push(cur);
    if (out.length > MAX_CHAIN) fail('INVALID_ARGUMENT', `the backing chain of ${file} loops`);
  }
  return out;
}

/** Number of backing images below `file` (0 for an image without one). */
export const qcow2ChainDepthSync = (file: string): number => qcow2BackingChainSync(file).length;
