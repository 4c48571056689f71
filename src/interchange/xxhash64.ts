/**
 * XXH64 (seed 0), the digest XAPI writes beside each XVA chunk as
 * `NNNNNNNN.xxhash` (16 upper-case hex digits). Node's crypto has no xxHash;
 * this follows the algorithm's specification (xxhash.com, XXH64) with the
 * 64-bit lanes kept as two 32-bit halves, so it runs without BigInt in the
 * loop. Pure.
 */

// 64-bit values as [hi, lo] unsigned 32-bit halves.
type U64 = [number, number];

const P1: U64 = [0x9e3779b1, 0x85ebca87];
const P2: U64 = [0xc2b2ae3d, 0x27d4eb4f];
const P3: U64 = [0x165667b1, 0x9e3779f9];
const P4: U64 = [0x85ebca77, 0xc2b2ae63];
const P5: U64 = [0x27d4eb2f, 0x165667c5];

function add(a: U64, b: U64): U64 {
  const lo = (a[1] + b[1]) >>> 0;
  const carry = lo < a[1] ? 1 : 0;
  return [(a[0] + b[0] + carry) >>> 0, lo];
}

function mul(a: U64, b: U64): U64 {
  // (ah*2^32 + al) * (bh*2^32 + bl) mod 2^64 = al*bl + ((ah*bl + al*bh) << 32)
  const al = a[1], bl = b[1];
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const m00 = a0 * b0, m01 = a0 * b1, m10 = a1 * b0, m11 = a1 * b1;
  const mid = m01 + m10; // < 2^33
  const low = m00 + (mid % 0x10000) * 0x10000; // < 2^49
  const lo = low >>> 0;
  const carry = Math.floor(low / 0x100000000) + Math.floor(mid / 0x10000) + m11;
  const hi = (carry + Math.imul(a[0], bl) + Math.imul(al, b[0])) >>> 0;
  return [hi, lo];
}

function rotl(a: U64, r: number): U64 {
  if (r === 32) return [a[1], a[0]];
  if (r > 32) return rotl([a[1], a[0]], r - 32);
  return [((a[0] << r) | (a[1] >>> (32 - r))) >>> 0, ((a[1] << r) | (a[0] >>> (32 - r))) >>> 0];
}

const xor = (a: U64, b: U64): U64 => [(a[0] ^ b[0]) >>> 0, (a[1] ^ b[1]) >>> 0];
const shr = (a: U64, r: number): U64 => (r >= 32 ? [0, a[0] >>> (r - 32)] : [a[0] >>> r, ((a[1] >>> r) | (a[0] << (32 - r))) >>> 0]);
const read64 = (b: Uint8Array, i: number): U64 => [
  (b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24)) >>> 0,
  (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0,
];

const round = (acc: U64, input: U64): U64 => mul(rotl(add(acc, mul(input, P2)), 31), P1);
const merge = (acc: U64, val: U64): U64 => add(mul(xor(acc, round([0, 0], val)), P1), P4);

/** XXH64 of `data` with seed 0, as 16 upper-case hex digits (XAPI's `%016LX`). */
export function xxh64Hex(data: Uint8Array): string {
  const len = data.length;
  let i = 0;
  let h: U64;
  if (len >= 32) {
    let v1 = add(P1, P2);
    let v2: U64 = [P2[0], P2[1]];
    let v3: U64 = [0, 0];
    let v4: U64 = [(~P1[0] + (P1[1] === 0 ? 1 : 0)) >>> 0, (-P1[1]) >>> 0]; // 0 - P1
    for (; i + 32 <= len; i += 32) {
      v1 = round(v1, read64(data, i));
      v2 = round(v2, read64(data, i + 8));
      v3 = round(v3, read64(data, i + 16));
      v4 = round(v4, read64(data, i + 24));
    }
    h = add(add(rotl(v1, 1), rotl(v2, 7)), add(rotl(v3, 12), rotl(v4, 18)));
    h = merge(merge(merge(merge(h, v1), v2), v3), v4);
  } else {
    h = [P5[0], P5[1]];
  }
  h = add(h, [Math.floor(len / 0x100000000) >>> 0, len >>> 0]);
  for (; i + 8 <= len; i += 8) {
    h = xor(h, round([0, 0], read64(data, i)));
    h = add(mul(rotl(h, 27), P1), P4);
  }
  if (i + 4 <= len) {
    const k: U64 = [0, (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0];
    h = xor(h, mul(k, P1));
    h = add(mul(rotl(h, 23), P2), P3);
    i += 4;
  }
  for (; i < len; i++) {
    h = xor(h, mul([0, data[i]!], P5));
    h = mul(rotl(h, 11), P1);
  }
  h = mul(xor(h, shr(h, 33)), P2);
  h = mul(xor(h, shr(h, 29)), P3);
  h = xor(h, shr(h, 32));
  return (h[0].toString(16).padStart(8, '0') + h[1].toString(16).padStart(8, '0')).toUpperCase();
}
