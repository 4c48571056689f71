/**
 * Opens an OVA for import: lists it with the safe tar reader, finds its one
 * OVF descriptor and its manifest (`.mf`), extracts the descriptor, manifest
 * and certificate (only these) into a fresh private folder while hashing them
 * with the algorithm the manifest names, and checks their digests. The disks
 * stay in the package: `inPlace` tells where each member lies (qemu-img reads
 * it there, ova-in-place.ts) and verifies members against the manifest by
 * reading their byte range. A mismatch, or a manifest naming a file the OVA
 * lacks, is CHECKSUM_MISMATCH naming the file; the folder is removed on any
 * failure. The caller removes it (`cleanup`) when the import is done.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { fail } from '../shared/index.js';
import { parseManifest } from './manifest.js';
import { memberDigests } from './ova-in-place.js';
import { extractMembers, type Digests } from './tar-extract.js';
import { listTar, readMember, type TarMember } from './tar-read.js';
import type { ManifestEntry, MappingWarning } from './types.js';

const SMALL_MAX = 8 * 1024 * 1024;

export interface OpenedOva {
  /** What the package is: an OVA, or an XVA (xva-open.ts) opened the same way. */
  format: 'ova' | 'xva';
  /** The private folder the members are extracted into. */
  dir: string;
  /** The extracted descriptor's path. */
  descriptor: string;
  /** Every regular member's name (extracted or not). */
  members: ReadonlySet<string>;
  warnings: MappingWarning[];
  /** XVA: reassembles the disks in `dir`, each chunk verified; `fraction` runs 0 → 1. */
  extractRest?(o: { signal?: AbortSignal; onProgress?: (fraction: number) => void }): Promise<void>;
  /** OVA: the disks are read where they lie in the package. */
  inPlace?: InPlaceMembers;
  cleanup(): Promise<void>;
}

export interface InPlaceMembers {
  /** The package. */
  file: string;
  /** The member called `name` (a path relative to `dir`, with `/`), if the package holds it. */
  member(name: string): TarMember | undefined;
  /** Hashes each of `names` the manifest lists, in place; CHECKSUM_MISMATCH naming the first that differs. */
  verify(names: readonly string[], signal?: AbortSignal): Promise<void>;
}

function pickOne(file: string, members: TarMember[], ext: string, what: string, required: boolean): TarMember | undefined {
  const found = members.filter((m) => m.name.toLowerCase().endsWith(ext) && !m.name.includes('/'));
  if (found.length > 1) fail('INTERCHANGE_INVALID', `${file} holds ${found.length} ${what} files (${found.map((m) => m.name).join(', ')}); an OVA has one`);
  if (required && found.length === 0) fail('INTERCHANGE_INVALID', `${file} holds no .ovf descriptor at its top level (members: ${members.slice(0, 8).map((m) => m.name).join(', ')})`);
  return found[0];
}

/** Lists `file`, extracts its descriptor, manifest and certificate into a new folder under `workDir`, and verifies them. */
export async function openOva(file: string, workDir: string, signal?: AbortSignal): Promise<OpenedOva> {
  const members = await listTar(file);
  const ovf = pickOne(file, members, '.ovf', 'OVF descriptor', true)!;
  const mf = pickOne(file, members, '.mf', 'manifest', false);
  const cert = pickOne(file, members, '.cert', 'certificate', false);
  const source = path.basename(file);
  const warnings: MappingWarning[] = [];
  if (members[0] !== ovf) warnings.push({ source, message: `the descriptor ${ovf.name} is not the first member (DSP0243 puts it first; VMware's tools read OVAs in order)` });
  let entries: ManifestEntry[] = [];
  if (mf === undefined) warnings.push({ source, message: 'no manifest (.mf): the files are not verified' });
  else entries = parseManifest((await readMember(file, mf, SMALL_MAX)).toString('utf8'));
  if (cert !== undefined) warnings.push({ source: cert.name, message: 'a signing certificate is present; it is noted but not checked (the manifest digests are)' });
  const byName = new Map(members.map((m) => [m.name, m]));
  for (const e of entries) if (!byName.has(e.file)) fail('CHECKSUM_MISMATCH', `${source}: the manifest ${mf!.name} lists ${e.file}, which the OVA does not hold; nothing was imported`);
  const listed = new Set(entries.map((e) => e.file));
  for (const m of members) if (m !== mf && m !== cert && mf !== undefined && !listed.has(m.name)) warnings.push({ source: m.name, message: `not listed in the manifest ${mf.name}: not verified` });
  const dir = await mkdtemp(path.join(workDir, '.ova-import-'));
  const cleanup = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const digestsOk = (name: string, got: Digests | undefined): void => {
    for (const e of entries.filter((x) => x.file === name)) {
      const d = got?.[e.algorithm];
      if (d !== undefined && d !== e.digest) fail('CHECKSUM_MISMATCH', `${source}: ${e.file} does not match the manifest (${e.algorithm.toUpperCase()} ${d}, the manifest says ${e.digest}); nothing was imported`);
    }
  };
  const first = members.filter((m) => m === ovf || m === mf || m === cert);
  try {
    const digests = await extractMembers(file, first, dir, {
      ...(signal ? { signal } : {}),
      hashes: (name) => entries.filter((e) => e.file === name).map((e) => e.algorithm),
    });
    for (const m of first) digestsOk(m.name, digests.get(m.name));
  } catch (err) {
    await cleanup();
    throw err;
  }
  return {
    format: 'ova', dir, descriptor: path.join(dir, ovf.name), members: new Set(members.map((m) => m.name)), warnings, cleanup,
    inPlace: {
      file,
      member: (name) => byName.get(name),
      verify: async (names, sig) => {
        for (const name of names) {
          const algorithms = entries.filter((e) => e.file === name).map((e) => e.algorithm);
          const m = byName.get(name);
          if (m === undefined || algorithms.length === 0) continue;
          digestsOk(name, await memberDigests(file, m, algorithms, sig));
        }
      },
    },
  };
}
