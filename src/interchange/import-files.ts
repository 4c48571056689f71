/**
 * The file side of `polyvisor import FILE`: read the descriptor (bounded in
 * size), pick its format, map it with the format's pure reader, and find each
 * disk file it names — beside the descriptor for a relative name (never
 * outside its folder), as written for an absolute one (then beside the
 * descriptor by its file name, as an exported libvirt XML or Proxmox config
 * names paths of another host). Missing files are warnings, so a dry run
 * works on a descriptor alone.
 */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { fail, validateAbsolutePath } from '../shared/index.js';
import { detectFormat, type FormatCodecs } from './formats.js';
import type { ImportedDisk, ImportPlan, InterchangeFormat, MappingWarning, ReadOptions } from './types.js';

/** Descriptors are small; a "descriptor" past this is not one. */
export const DESCRIPTOR_MAX_BYTES = 8 * 1024 * 1024;

export interface LocatedDisk extends ImportedDisk {
  /** Absolute path of the file found, or undefined when it is missing. */
  found?: string;
}

export interface FilePlan {
  file: string;
  format: InterchangeFormat;
  plan: ImportPlan;
  disks: LocatedDisk[];
  warnings: MappingWarning[];
}

export async function readDescriptor(file: string): Promise<string> {
  const st = await stat(file).catch((err: NodeJS.ErrnoException) => fail(err.code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'INTERCHANGE_INVALID', `${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`));
  if (!st.isFile()) fail('INTERCHANGE_INVALID', `${file} is not a regular file`);
  if (st.size > DESCRIPTOR_MAX_BYTES) fail('INTERCHANGE_INVALID', `${file} is ${st.size} bytes; a descriptor is at most ${DESCRIPTOR_MAX_BYTES} (give the .ovf/.vmx/.xml/.conf/.ps1, not a disk)`);
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(st.size);
    await fh.read(buf, 0, st.size, 0);
    if (buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff))) {
      // Hyper-V writes its XML in UTF-16.
      const le = buf[0] === 0xff;
      const body = le ? buf.subarray(2) : Buffer.from(buf.subarray(2)).swap16();
      return body.toString('utf16le').replace(/encoding=["']UTF-16["']/i, 'encoding="UTF-8"');
    }
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

async function isFile(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isFile() === true;
}

/** Where a disk named by a descriptor is on this host, or a warning saying why it is not used. */
async function locate(dir: string, d: ImportedDisk, warnings: MappingWarning[], packaged?: ReadonlySet<string>): Promise<string | undefined> {
  const source = `disk ${d.name}`;
  if (path.isAbsolute(d.file)) {
    if (await isFile(d.file)) return path.resolve(d.file);
    const beside = path.join(dir, path.basename(d.file));
    if (await isFile(beside)) {
      warnings.push({ source, message: `${d.file} is not on this host; ${path.basename(d.file)} beside the descriptor is used` });
      return beside;
    }
    warnings.push({ source, message: `the file ${d.file} is missing (also beside the descriptor)` });
    return undefined;
  }
  const p = path.resolve(dir, d.file);
  if (path.relative(dir, p).startsWith('..') || d.file.includes('\0')) fail('INTERCHANGE_INVALID', `disk ${d.name}: ${JSON.stringify(d.file)} points outside the descriptor's folder`);
  if (await isFile(p)) return p;
  // In an OVA not extracted yet (a dry run): where it will be.
  if (packaged?.has(path.relative(dir, p).split(path.sep).join('/')) === true) return p;
  warnings.push({ source, message: `the file ${d.file} is missing ${packaged === undefined ? 'beside the descriptor' : 'from the package'}` });
  return undefined;
}

/** Reads and maps a descriptor file; nothing is written. `packaged`: the members of the OVA the descriptor was extracted from. */
export async function planFromFile(file: string, o: ReadOptions, codecs: FormatCodecs, packaged?: ReadonlySet<string>): Promise<FilePlan> {
  validateAbsolutePath(file, 'import file');
  const text = await readDescriptor(file);
  const format = detectFormat(file, text.slice(0, 4096));
  if (format === 'ova' || (format === 'xva' && /\.xva$/i.test(file))) fail('INTERCHANGE_INVALID', `${file}: an ${format.toUpperCase()} package is opened by the import itself, not read as a descriptor`);
  const read = codecs[format]?.read;
  if (read === undefined) fail('INTERCHANGE_INVALID', `${file}: ${format} descriptors are not read yet`);
  const plan = read(text, o);
  const dir = path.dirname(file);
  const warnings = [...plan.warnings];
  const disks: LocatedDisk[] = [];
  for (const d of plan.disks) {
    const found = await locate(dir, d, warnings, packaged);
    disks.push({ ...d, ...(found === undefined ? {} : { found }) });
  }
  return { file, format, plan, disks, warnings };
}
