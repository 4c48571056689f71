/**
 * OVF quantities: DSP0004 programmatic units ("byte * 2^30", "byte*1024^2",
 * "MegaBytes") × a count, in bytes, refusing what overflows; and the CIM OS
 * types of OperatingSystemSection (CIM_OperatingSystem.OsType) as the spec's
 * os hint. Pure.
 */
import { fail } from '../shared/index.js';

const NAMED: Record<string, bigint> = {
  byte: 1n, bytes: 1n, kilobytes: 1024n, kb: 1024n, megabytes: 1024n ** 2n, mb: 1024n ** 2n, gigabytes: 1024n ** 3n, gb: 1024n ** 3n, terabytes: 1024n ** 4n, tb: 1024n ** 4n,
};
const MAX_I64 = 2n ** 63n - 1n;

/** The multiplier of a programmatic unit, or undefined when it is not one. */
export function unitMultiplier(units: string): bigint | undefined {
  const u = units.trim().toLowerCase().replace(/\s+/g, ' ');
  const named = NAMED[u.replace(/ /g, '')];
  if (named !== undefined) return named;
  const m = /^byte ?(?:\* ?(\d{1,4}) ?\^ ?(\d{1,3}))?$/.exec(u);
  if (!m) return undefined;
  if (m[1] === undefined) return 1n;
  const p = BigInt(m[1]) ** BigInt(m[2]!);
  return p > MAX_I64 ? MAX_I64 + 1n : p;
}

/**
 * count × units in bytes. INTERCHANGE_INVALID when the count is not a whole
 * number, the units are unknown, or the product passes 2^63 (or 2^53, what a
 * JavaScript number holds exactly).
 */
export function bytesOfQuantity(count: string, units: string | undefined, defaultUnits: string, where: string): number {
  if (!/^\d{1,30}$/.test(count.trim())) fail('INTERCHANGE_INVALID', `${where}: ${JSON.stringify(count)} is not a whole number`);
  const mult = unitMultiplier(units ?? defaultUnits);
  if (mult === undefined) fail('INTERCHANGE_INVALID', `${where}: the units ${JSON.stringify(units)} are not a size unit (like "byte * 2^20")`);
  const bytes = BigInt(count.trim()) * mult;
  if (bytes > MAX_I64) fail('INTERCHANGE_INVALID', `${where}: ${count} × ${units ?? defaultUnits} overflows 2^63 bytes`);
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) fail('INTERCHANGE_INVALID', `${where}: ${count} × ${units ?? defaultUnits} is beyond any disk or memory size Polyvisor handles (2^53 bytes)`);
  return Number(bytes);
}

/** A whole count (CPUs, cores) within [min, max], or INTERCHANGE_INVALID naming where it came from. */
export function countOf(text: string | undefined, min: number, max: number, where: string, fallback?: number): number {
  if (text === undefined || text.trim() === '') {
    if (fallback !== undefined) return fallback;
    fail('INTERCHANGE_INVALID', `${where} is missing`);
  }
  const n = /^\d{1,12}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) fail('INTERCHANGE_INVALID', `${where}: ${JSON.stringify(text)} is not a count from ${min} to ${max}`);
  return n;
}

export type OsType = 'linux' | 'windows' | 'other';

/** CIM_OperatingSystem.OsType values that are Windows or Linux; everything else is "other". */
const CIM_WINDOWS = new Set([15, 16, 17, 18, 19, 58, 63, 67, 69, 70, 71, 72, 73, 74, 75, 76, 77, 103, 105, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123]);
const CIM_LINUX = new Set([36, 79, 80, 82, 83, 84, 85, 86, 87, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 106, 107, 108, 109]);

/** The os type of an OS id or name: a CIM number, a VMware guest id (ubuntu64Guest), a VirtualBox OSType (Debian_64) or a description. */
export function osTypeOf(id: string): OsType {
  if (/^\d+$/.test(id)) {
    const n = Number(id);
    return CIM_WINDOWS.has(n) ? 'windows' : CIM_LINUX.has(n) ? 'linux' : 'other';
  }
  const s = id.toLowerCase();
  if (/win|microsoft/.test(s)) return 'windows';
  if (/linux|ubuntu|debian|centos|rhel|redhat|suse|sles|fedora|oracle|rocky|alma|mandr|turbo|gentoo|arch|photon|coreos|amazon|asianux|opensuse|sles|mint|xandros|l4|turbolinux/.test(s)) return 'linux';
  return 'other';
}

/** The CIM OsType an exporter writes for a spec os type (Linux 64-Bit, Windows 10 64-bit, Other 64-Bit). */
export const CIM_OF_OS: Record<OsType, number> = { linux: 101, windows: 120, other: 102 };
