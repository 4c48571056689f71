/**
 * Files of external (overlay) snapshots. A node's file per disk is the image
 * that was active when the node was taken; taking it creates a new overlay
 * `<disk>.ext-<id>.qcow2` beside it (backing = the old image, by file name,
 * so the directory can move) and points the VM's spec at it. Files are
 * never renamed under a running QEMU: QEMU re-opens an image by its name
 * when it turns it read-only, and would then read another file.
 */
import { copyFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PolyvisorError, newId, run } from '../shared/index.js';
import { createEncryptedImage, keyedChainOpts, keyedImageOpts, withSecretFile } from '../storage/index.js';

const TIMEOUT_MS = 6 * 3600_000;
/** A new overlay's path for `disk` beside `active`. */
export const overlayPath = (active: string, disk: string): string => path.join(path.dirname(active), `${disk}.ext-${newId('o').slice(2)}.qcow2`);
/** A file Polyvisor created as an overlay of `disk` (named by overlayPath). */
export const isOverlayOf = (file: string, disk: string): boolean => {
  const b = path.basename(file);
  return b.startsWith(`${disk}.ext-`) && /^[0-9a-z]+-[0-9a-f]{8}\.qcow2$/.test(b.slice(disk.length + 5));
};

async function qemuImg(args: string[], signal: AbortSignal): Promise<string> {
  const r = await run('qemu-img', args, { timeoutMs: TIMEOUT_MS, signal, missingCode: 'QEMU_IMG_MISSING' });
  if (r.code !== 0) throw new PolyvisorError('SNAPSHOT_FAILED', `qemu-img ${args[0]}: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return r.stdout;
}

interface Info { 'virtual-size': number; 'full-backing-filename'?: string }
const info = async (file: string, signal: AbortSignal): Promise<Info> => JSON.parse(await qemuImg(['info', '-U', '--output=json', '-f', 'qcow2', file], signal)) as Info;

export const virtualSize = async (file: string, signal: AbortSignal): Promise<number> => (await info(file, signal))['virtual-size'];

/** The absolute path of the file's backing image, or null. */
export async function backingOf(file: string, signal: AbortSignal): Promise<string | null> {
  const b = (await info(file, signal))['full-backing-filename'];
  return b ? path.resolve(path.dirname(file), b) : null;
}

/** The files of the chain from `active` down (as their headers say). */
export async function chainOnDisk(active: string, signal: AbortSignal): Promise<string[]> {
  const out = [active];
  for (let b = await backingOf(active, signal); b !== null; b = await backingOf(b, signal)) {
    out.push(b);
    if (out.length > 1000) throw new PolyvisorError('SNAPSHOT_FAILED', `the backing chain of ${active} loops`);
  }
  return out;
}

export const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);

/**
 * A new, empty overlay `file` of `backing` (a file in the same directory);
 * with `passphrase` (an encrypted disk) the overlay is LUKS-encrypted under
 * the disk's passphrase, like every image of its chain.
 */
export async function createOverlayFile(file: string, backing: string, size: number, signal: AbortSignal, passphrase?: string): Promise<void> {
  if (passphrase !== undefined) {
    await createEncryptedImage(file, size, passphrase, { backing: path.basename(backing), signal });
    return;
  }
  await qemuImg(['create', '-q', '-f', 'qcow2', '-u', '-b', path.basename(backing), '-F', 'qcow2', file, String(size)], signal);
}

/** `qemu-img ARGS…` with `img` opened through its whole chain by one passphrase (a 0600 file beside it, removed afterwards). */
async function keyedQemuImg(head: string[], img: string, tail: string[], passphrase: string, signal: AbortSignal, depth?: number): Promise<void> {
  const layers = depth ?? (await chainOnDisk(img, signal)).length - 1;
  await withSecretFile(path.dirname(img), passphrase, (f) => qemuImg([...head, '--object', `secret,id=sec0,file=${f.replace(/,/g, ',,')}`, '--image-opts', keyedChainOpts(path.resolve(img), layers, 'sec0'), ...tail], signal));
}

/** qemu-img commit: `top`'s data goes into its backing image (an encrypted chain opened with its passphrase). */
export async function commitIntoBacking(top: string, signal: AbortSignal, passphrase?: string): Promise<void> {
  if (passphrase !== undefined) return keyedQemuImg(['commit', '-q'], top, [], passphrase, signal);
  await qemuImg(['commit', '-q', '-f', 'qcow2', top], signal);
}

/**
 * Safe rebase: `file` keeps its view with `backing` (or no backing at all,
 * null) below it. Encrypted (`passphrase`), `backing` must be the backing of
 * `file`'s backing (the only rebase snapshots need: a node's file merged
 * away), because qemu-img rebase cannot open an encrypted new backing: the
 * node's file is copied, `file` is put on the copy (unsafe, nothing moves)
 * and committed into it, and the copy, now holding `file`'s view over
 * `backing`, takes `file`'s name.
 */
export async function rebaseOnto(file: string, backing: string | null, signal: AbortSignal, passphrase?: string): Promise<void> {
  if (passphrase === undefined) {
    await qemuImg(['rebase', '-q', '-f', 'qcow2', '-b', backing ? path.basename(backing) : '', ...(backing ? ['-F', 'qcow2'] : []), file], signal);
    return;
  }
  const node = await backingOf(file, signal);
  if (node === null || (await backingOf(node, signal)) !== (backing === null ? null : path.resolve(backing))) {
    throw new PolyvisorError('SNAPSHOT_FAILED', `rebasing encrypted ${path.basename(file)}: only the image below it can be merged away`);
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${newId('r').slice(2)}.rebase`);
  const repoint = (to: string): Promise<string> => withSecretFile(path.dirname(file), passphrase, (f) => qemuImg([
    'rebase', '-q', '-u', '--object', `secret,id=sec0,file=${f.replace(/,/g, ',,')}`,
    '--image-opts', keyedImageOpts({ path: file, format: 'qcow2', passphrase }, 'sec0'), '-b', path.basename(to), '-F', 'qcow2',
  ], signal));
  let moved = false;
  try {
    await copyFile(node, tmp);
    await repoint(tmp);
    moved = true;
    await keyedQemuImg(['commit', '-q', '-d'], file, [], passphrase, signal); // -d: `file` stays whole until the copy replaces it
    await rename(tmp, file);
  } catch (err) {
    if (moved) await repoint(node).catch(() => undefined); // the commit failed: `file` reads through the node's file again
    await rm(tmp, { force: true });
    throw err;
  }
}
