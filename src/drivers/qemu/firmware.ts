/** UEFI firmware (OVMF, Debian's `ovmf` package) and each VM's own copy of its variable store. */
import { constants, copyFile, open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, PolyvisorError } from '../../shared/index.js';
import type { OvmfFiles } from './argv.js';

/** Code/vars pairs in order of preference; a pair must match in size (2 MiB or 4 MiB flash). */
export const OVMF_CANDIDATES: readonly OvmfFiles[] = [
  { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' },
  { code: '/usr/share/OVMF/OVMF_CODE.fd', vars: '/usr/share/OVMF/OVMF_VARS.fd' },
];

/** Secure Boot: the SMM build, and variables with Microsoft's keys enrolled (what Windows and shim-signed Linux expect). */
export const OVMF_SECBOOT_CANDIDATES: readonly OvmfFiles[] = [
  { code: '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.ms.fd' },
  { code: '/usr/share/OVMF/OVMF_CODE.secboot.fd', vars: '/usr/share/OVMF/OVMF_VARS.ms.fd' },
];

/** The OVMF pair to boot with; `secureBoot` looks for the Secure Boot build instead (the candidates given are for plain UEFI). */
export async function findOvmf(candidates: readonly OvmfFiles[] = OVMF_CANDIDATES, secureBoot = false): Promise<OvmfFiles> {
  if (secureBoot) candidates = OVMF_SECBOOT_CANDIDATES;
  for (const c of candidates) {
    const [code, vars] = await Promise.all([stat(c.code).catch(() => undefined), stat(c.vars).catch(() => undefined)]);
    if (code?.isFile() && vars?.isFile()) return c;
  }
  throw new PolyvisorError('OVMF_MISSING', `no OVMF firmware found (looked for ${candidates.map((c) => c.code).join(', ')})`);
}

/** Copies the OVMF variable template to the VM's NVRAM file on its first UEFI start; later starts keep it. */
export async function ensureNvram(nvram: string, ovmf: OvmfFiles): Promise<void> {
  if (await stat(nvram).catch(() => undefined)) return;
  const tmp = path.join(path.dirname(nvram), `.${path.basename(nvram)}.tmp`);
  await copyFile(ovmf.vars, tmp, constants.COPYFILE_FICLONE);
  try {
    const fh = await open(tmp, 'r+');
    await fh.sync().finally(() => fh.close());
    await rename(tmp, nvram);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(path.dirname(nvram));
}
