/**
 * Hints: spec values the domain XML expresses differently (see
 * domain-xml-metadata.ts). The writer reads its own XML back, compares it with
 * the spec and keeps each difference as a hint; a difference outside the
 * fields below means the XML cannot say that spec value, which is a
 * SPEC_INVALID error naming the field (never a silent drop). The reader
 * applies a hint only while the XML still reads as the value the hint
 * recorded. Pure.
 */
import { PolyvisorError } from '../../shared/index.js';
import type { VmSpec } from '../../spec/index.js';
import type { Hint } from './domain-xml-metadata.js';

type Json = unknown;
type Obj = Record<string, Json>;

/**
 * Fields a hint may carry, and why the XML says them differently:
 * accel auto (a domain has one concrete type), boot.order and computed boot
 * indexes (libvirt keeps per-device orders only), a disk made from a size (the
 * XML has its image path), a format the caller probed from the image, a CD-ROM's bus/format/readOnly (libvirt puts
 * CD-ROMs on ATA, raw and read-only whatever the spec's defaults say).
 */
function hintable(path: string[], spec: VmSpec, probed: ReadonlySet<string>): boolean {
  const f = path.join('/');
  if (f === 'machine/accel' || f === 'boot/order') return true;
  if (path[0] !== 'disks' || path.length !== 3) return false;
  if (path[2] === 'format' && probed.has(path[1]!)) return true;
  const disk = spec.disks.find((d) => d.name === path[1]);
  if (['bootIndex', 'size', 'path'].includes(path[2]!)) return path[2] !== 'path' || disk?.size !== undefined;
  return disk?.media === 'cdrom' && ['bus', 'format', 'readOnly'].includes(path[2]!);
}

const isObj = (v: Json): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** JSON with object keys sorted: labels compare as mappings, not by insertion order. */
const canon = (v: Json): string => JSON.stringify(v, (_k, x: Json) => (isObj(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]])) : x));
const same = (a: Json, b: Json): boolean => canon(a) === canon(b);
const enc = (v: Json): string | undefined => (v === undefined ? undefined : JSON.stringify(v));

/** Where a field path points: "disks/NAME/x" goes through the disk named NAME. */
function dotted(path: string[], spec: VmSpec): string {
  if ((path[0] === 'disks' || path[0] === 'networks') && path.length > 1) {
    const list: Array<{ name: string }> = path[0] === 'disks' ? spec.disks : spec.networks;
    return [path[0], String(list.findIndex((x) => x.name === path[1])), ...path.slice(2)].join('.');
  }
  return path.join('.');
}

function diffInto(spec: Json, read: Json, path: string[], out: Array<{ path: string[]; spec: Json; read: Json }>): void {
  if (same(spec, read)) return;
  const named = path.length === 1 && (path[0] === 'disks' || path[0] === 'networks');
  if (named && Array.isArray(spec) && Array.isArray(read)) {
    const names = (l: Json[]): string => l.map((x) => (x as { name: string }).name).join('\u0000');
    if (names(spec) === names(read)) {
      spec.forEach((s, i) => diffInto(s, read[i], [...path, (s as { name: string }).name], out));
      return;
    }
  } else if (isObj(spec) && isObj(read) && path[0] !== 'labels') {
    for (const k of new Set([...Object.keys(spec), ...Object.keys(read)])) diffInto(spec[k], read[k], [...path, k], out);
    return;
  }
  out.push({ path, spec, read });
}

/** The hints that make `read` (the XML read back) equal `spec`; SPEC_INVALID for a value the XML cannot hold. */
export function hintsFor(spec: VmSpec, read: VmSpec, probed: ReadonlySet<string> = new Set()): Hint[] {
  const diffs: Array<{ path: string[]; spec: Json; read: Json }> = [];
  diffInto(spec, read, [], diffs);
  return diffs.map((d) => {
    if (!hintable(d.path, spec, probed)) {
      const field = dotted(d.path, spec);
      const message = `${JSON.stringify(d.spec) ?? 'unset'} cannot be said in libvirt domain XML (it reads back as ${JSON.stringify(d.read) ?? 'unset'})`;
      throw new PolyvisorError('SPEC_INVALID', `${field}: ${message}`, { details: [{ field, message }] });
    }
    return { field: d.path.join('/'), xml: enc(d.read), spec: enc(d.spec) };
  });
}

function slot(root: Obj, path: string[]): { parent: Obj; key: string } | undefined {
  let cur: Json = root;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i]!;
    if (Array.isArray(cur)) cur = cur.find((x) => isObj(x) && x['name'] === seg);
    else if (isObj(cur)) cur = cur[seg];
    else return undefined;
  }
  return isObj(cur) ? { parent: cur, key: path[path.length - 1]! } : undefined;
}

/** `read` with every hint applied whose recorded XML value still matches; returns the copy and how many were stale. */
export function applyHints(read: VmSpec, hints: Hint[]): { spec: Obj; stale: number } {
  const out = JSON.parse(JSON.stringify(read)) as Obj;
  let stale = 0;
  for (const h of hints) {
    const s = slot(out, h.field.split('/'));
    if (s === undefined || enc(s.parent[s.key]) !== h.xml) {
      stale++;
      continue;
    }
    if (h.spec === undefined) delete s.parent[s.key];
    else s.parent[s.key] = JSON.parse(h.spec) as Json;
  }
  return { spec: out, stale };
}
