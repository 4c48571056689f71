/** qemu-img steps of backups: target images, offline bitmaps, checksums. */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { PolyvisorError, run } from '../shared/index.js';
import { createEncryptedImage, hashFile, keyedImageOpts, parseImageCheck, qcow2ChainDepthSync, withSecretFile, type ImageCheck } from '../storage/index.js';

const TIMEOUT_MS = 6 * 3600_000;

async function qemuImg(args: string[], signal: AbortSignal): Promise<string> {
  const r = await run('qemu-img', args, { timeoutMs: TIMEOUT_MS, signal, missingCode: 'QEMU_IMG_MISSING' });
  if (r.code !== 0) throw new PolyvisorError('BACKUP_FAILED', `qemu-img ${args[0]}: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return r.stdout;
}

/**
 * An empty qcow2 target; with `backing` (a file name in the same directory) an
 * incremental overlay; with `passphrase` LUKS-encrypted under it (a backup of
 * an encrypted disk: the whole chain under the disk's passphrase).
 */
export async function createTarget(file: string, virtualSize: number, backing: string | undefined, signal: AbortSignal, passphrase?: string): Promise<void> {
  if (passphrase !== undefined) {
    await createEncryptedImage(file, virtualSize, passphrase, { signal, ...(backing ? { backing } : {}) });
    return;
  }
  await qemuImg(['create', '-q', '-f', 'qcow2', ...(backing ? ['-b', backing, '-F', 'qcow2'] : []), file, String(virtualSize)], signal);
}

export interface OfflineImageInfo { virtualSize: number; bitmaps: Array<{ name: string; inconsistent: boolean }> }

export async function offlineInfo(file: string, signal: AbortSignal): Promise<OfflineImageInfo> {
  const j = JSON.parse(await qemuImg(['info', '-U', '--output=json', '-f', 'qcow2', file], signal)) as {
    'virtual-size': number; 'format-specific'?: { data?: { bitmaps?: Array<{ name: string; flags?: string[] }> } };
  };
  const bitmaps = (j['format-specific']?.data?.bitmaps ?? []).map((b) => ({ name: b.name, inconsistent: (b.flags ?? []).includes('in-use') }));
  return { virtualSize: j['virtual-size'], bitmaps };
}

/** Adds or removes a persistent bitmap in a stopped VM's image (an encrypted one opened with its passphrase; qemu-img bitmap opens no backing). */
export async function offlineBitmap(file: string, op: '--add' | '--remove', name: string, signal: AbortSignal, passphrase?: string): Promise<void> {
  if (passphrase === undefined) {
    await qemuImg(['bitmap', op, '-f', 'qcow2', file, name], signal);
    return;
  }
  await withSecretFile(path.dirname(file), passphrase, (f) => qemuImg(['bitmap', '--object', `secret,id=sec0,file=${f.replace(/,/g, ',,')}`, '--image-opts', op, keyedImageOpts({ path: file, format: 'qcow2', passphrase }, 'sec0'), name], signal));
}

/** qemu-img check of an encrypted backup file and the backups below it, all under `passphrase`. */
export async function checkKeyed(file: string, passphrase: string, signal: AbortSignal): Promise<ImageCheck> {
  const opts = keyedImageOpts({ path: file, format: 'qcow2', passphrase, backingDepth: qcow2ChainDepthSync(file) }, 'sec0');
  return withSecretFile(path.dirname(file), passphrase, async (f) => {
    const r = await run('qemu-img', ['check', '--output=json', '--object', `secret,id=sec0,file=${f.replace(/,/g, ',,')}`, '--image-opts', opts], { timeoutMs: TIMEOUT_MS, signal, missingCode: 'QEMU_IMG_MISSING' });
    if (r.code === 0 || r.code === 2 || r.code === 3) return parseImageCheck(r.stdout);
    throw new PolyvisorError('BACKUP_FAILED', `qemu-img check: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  });
}

export async function fileFacts(file: string, signal: AbortSignal): Promise<{ sizeBytes: number; sha256: string }> {
  const st = await stat(file);
  return { sizeBytes: st.size, sha256: await hashFile(file, 'sha256', undefined, signal) };
}
