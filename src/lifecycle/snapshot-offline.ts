/** Internal snapshots of stopped VMs with `qemu-img snapshot`, and sizes read with `qemu-img info -U`. */
import path from 'node:path';
import { PolyvisorError, run } from '../shared/index.js';
import { withSecretFile } from '../storage/index.js';

const TIMEOUT_MS = 10 * 60_000;

async function qemuImg(args: string[], signal: AbortSignal): Promise<string> {
  const r = await run('qemu-img', args, { timeoutMs: TIMEOUT_MS, signal, missingCode: 'QEMU_IMG_MISSING' });
  if (r.code !== 0) throw new PolyvisorError('SNAPSHOT_FAILED', `qemu-img ${args.filter((a) => /^-[acdl]$/.test(a)).join(' ') || args[0]}: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return r.stdout;
}

/** The image as qcow2 without probing its format (commas in the path doubled, as QEMU's option syntax wants). */
const qcow2Opts = (img: string): string => `driver=qcow2,file.driver=file,file.filename=${img.replace(/,/g, ',,')}`;

export type OfflineOp = '-c' | '-a' | '-d';

/** Image path → passphrase of the encrypted ones (LUKS in qcow2), which qemu-img opens through a 0600 secret file. */
export type ImageKeys = ReadonlyMap<string, string>;

/** `qemu-img snapshot OP TAG` on one image; an encrypted one gets its passphrase as a secret object read from a file. */
async function snapshotOne(op: OfflineOp, tag: string, img: string, keys: ImageKeys, signal: AbortSignal): Promise<void> {
  const pass = keys.get(img);
  if (pass === undefined) {
    await qemuImg(['snapshot', '--image-opts', op, tag, qcow2Opts(img)], signal);
    return;
  }
  await withSecretFile(path.dirname(img), pass, (file) => qemuImg(['snapshot', '--object', `secret,id=sec0,file=${file.replace(/,/g, ',,')}`, '--image-opts', op, tag, `${qcow2Opts(img)},encrypt.key-secret=sec0`], signal));
}

/** Creates (-c), applies (-a) or deletes (-d) internal snapshot `tag` in every image; -c is undone on all if one fails. */
export async function offlineSnapshot(op: OfflineOp, tag: string, images: readonly string[], signal: AbortSignal, keys: ImageKeys = new Map()): Promise<void> {
  const done: string[] = [];
  try {
    for (const img of images) {
      await snapshotOne(op, tag, img, keys, signal);
      done.push(img);
    }
  } catch (err) {
    if (op === '-c') for (const img of done) await snapshotOne('-d', tag, img, keys, signal).catch(() => undefined);
    throw err;
  }
}

/** Tags present in an image (with -U, so a running VM's image can be read). */
export async function imageSnapshots(image: string, signal: AbortSignal): Promise<Map<string, { vmStateBytes: number }>> {
  const out = await qemuImg(['info', '-U', '--output=json', '-f', 'qcow2', image], signal);
  const info = JSON.parse(out) as { snapshots?: Array<{ name: string; 'vm-state-size': number }> };
  return new Map((info.snapshots ?? []).map((s) => [s.name, { vmStateBytes: s['vm-state-size'] }]));
}
