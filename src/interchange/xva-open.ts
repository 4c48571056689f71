/**
 * Opens an XVA for import, as ova-open.ts opens an OVA: lists the tar with the
 * safe reader, reads its `ova.xml` (the first member XAPI writes), sorts
 * every other member into the disks it names (xva-disks.ts: anything else
 * refuses the import before a byte is written) and writes `ova.xml` into a
 * fresh private folder. `extractRest` reassembles each disk there as a raw
 * file named by its VDI id, every chunk verified on the way; the caller
 * converts them and removes the folder (`cleanup`). An `.xva.gz` is
 * decompressed first (xva-gunzip.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fail } from '../shared/index.js';
import type { OpenedOva } from './ova-open.js';
import { listTar, readMember } from './tar-read.js';
import type { MappingWarning } from './types.js';
import { reassembleXvaDisk, xvaLayout } from './xva-disks.js';
import { gunzipXva, isGzippedXva } from './xva-gunzip.js';
import { readXva } from './xva-read.js';

const OVA_XML_MAX = 8 * 1024 * 1024;
/** Chunks and their checksums: about 240 GiB of non-zero disk data (the member list stays near 100 MB). */
export const XVA_MAX_MEMBERS = 500_000;

export async function openXva(file: string, workDir: string, signal?: AbortSignal): Promise<OpenedOva> {
  if (isGzippedXva(file)) {
    // Decompressed once into a private folder, then the tar inside is opened like any XVA.
    const tmp = await mkdtemp(path.join(workDir, '.xva-gunzip-'));
    try {
      const inner = await openXva(await gunzipXva(file, tmp, signal ? { signal } : {}), workDir);
      return { ...inner, cleanup: async () => { await inner.cleanup(); await rm(tmp, { recursive: true, force: true }); } };
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }
  const members = await listTar(file, XVA_MAX_MEMBERS);
  const xml = members.find((m) => m.name === 'ova.xml');
  if (xml === undefined) fail('INTERCHANGE_INVALID', `${file} holds no ova.xml at its top level: not an XVA (members: ${members.slice(0, 6).map((m) => m.name).join(', ')})`);
  const source = path.basename(file);
  const warnings: MappingWarning[] = [];
  if (members[0] !== xml) warnings.push({ source, message: 'ova.xml is not the first member (XAPI writes it first and reads XVAs in order)' });
  const text = (await readMember(file, xml, OVA_XML_MAX)).toString('utf8');
  const sizes = new Map(readXva(text, {}).disks.map((d) => [d.file, d.capacity ?? 0]));
  const layouts = xvaLayout(source, members, sizes);
  for (const l of layouts) {
    if (l.chunks.length > 0 && l.unverified > 0) warnings.push({ source: `${l.ref}/`, message: `${l.unverified} of ${l.chunks.length} chunks carry no checksum: not verified` });
  }
  const dir = await mkdtemp(path.join(workDir, '.xva-import-'));
  const cleanup = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    await writeFile(path.join(dir, 'ova.xml'), text, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    await cleanup();
    throw err;
  }
  const total = layouts.reduce((n, l) => n + l.bytes, 0) || 1;
  return {
    format: 'xva', dir, descriptor: path.join(dir, 'ova.xml'), warnings, cleanup,
    // A disk counts as in the package when it has chunks (XAPI always writes the first and the last).
    members: new Set(layouts.filter((l) => l.chunks.length > 0).map((l) => l.ref)),
    extractRest: async (x) => {
      let before = 0;
      for (const l of layouts) {
        if (l.chunks.length === 0) continue;
        await reassembleXvaDisk(file, l, path.join(dir, l.ref), {
          ...(x.signal ? { signal: x.signal } : {}),
          onBytes: (n) => x.onProgress?.((before + n) / total),
        });
        before += l.bytes;
      }
    },
  };
}
