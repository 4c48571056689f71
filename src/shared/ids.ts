import { randomFillSync, randomUUID } from 'node:crypto';

export const newUuid = (): string => randomUUID();

/** Short, sortable-enough id for operations and requests: `op-` + time + random. */
export function newId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomHex8()}`;
}

/**
 * 4 random bytes as hex, from a pool refilled 1 KiB at a time: one
 * randomBytes call per id cost more than the rest of an id (every API request
 * gets one). Same source (the CSPRNG), same 8 hex digits.
 */
const pool = Buffer.alloc(1024);
let used = pool.length;
function randomHex8(): string {
  if (used + 4 > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const s = pool.toString('hex', used, used + 4);
  used += 4;
  return s;
}
