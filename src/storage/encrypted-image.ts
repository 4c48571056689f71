/**
 * LUKS-encrypted qcow2 images (spec `disk.encrypt`). The passphrase reaches
 * qemu-img only as a `--object secret,file=…` file: mode 0600, made with
 * O_EXCL beside the image (inside the VM's directory), removed as soon as
 * qemu-img is done, whatever happened. Never in argv, never in a message.
 */
import { open, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fail } from '../shared/index.js';
import type { ImageFormat, ImageInfo } from './image-info.js';
import { progressParser } from './progress.js';
import { imageInfo } from './qemu-img.js';
import { runQemuImg, stderrTail, type QemuImgOptions } from './qemu-img-run.js';
import { writeViaTemp, type CommitOptions } from './temp-output.js';

/**
 * PBKDF time when the LUKS header is written. The passphrase is 32 random
 * bytes (256 bits): stretching it adds nothing, and QEMU's default (2 s)
 * would cost every open, start and qemu-img call that much CPU.
 */
export const LUKS_ITER_TIME_MS = 10;

/**
 * qemu-img's words when its PBKDF benchmark measured no CPU time: a known QEMU
 * bug (Debian's 7.2 carries commit c72cab5, which runs the benchmark in a new
 * thread and fails when getrusage, updated asynchronously by the scheduler,
 * still reads 0 ms after the first short round; reported and fixed upstream
 * on qemu-devel by Daniel P. Berrangé, January 2025). Each
 * failure is immediate and independent, so the create is simply tried again:
 * four tries were seen all failing within 129 ms in load mode; single tries
 * failed 14 of 40 times on a quiet host here and 24 of 40 in load mode (0.6^25: about 3 in a million creates fail 25 tries in a row).
 */
const PBKDF_BENCH_FLAKE = 'Unable to get accurate CPU usage';
const PBKDF_BENCH_ATTEMPTS = 25;

/** A new random passphrase: 32 bytes, base64. */
export function newDiskPassphrase(): string {
  return randomBytes(32).toString('base64');
}

/**
 * Writes `passphrase` to a fresh 0600 file in `dir`, calls `fn(file)`, and
 * removes the file again (also when `fn` throws).
 */
export async function withSecretFile<T>(dir: string, passphrase: string, fn: (file: string) => Promise<T>): Promise<T> {
  const file = path.join(dir, `.key-${randomBytes(6).toString('hex')}.secret`);
  const fh = await open(file, 'wx', 0o600);
  try {
    try {
      await fh.writeFile(passphrase, 'utf8');
    } finally {
      await fh.close();
    }
    return await fn(file);
  } finally {
    await unlink(file).catch(() => undefined);
  }
}

/**
 * The qemu-img argv of a new encrypted qcow2 (the secret object's file named,
 * never its value); with `backing` (a qcow2 file name, relative to the
 * target's folder) an overlay whose backing is not opened (-u). Pure.
 */
export function encryptedCreateArgs(secretFile: string, target: string, sizeBytes: number, backing?: string): string[] {
  return [
    'create', '-q', '-f', 'qcow2',
    '--object', `secret,id=sec0,file=${secretFile}`,
    '-o', `encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=${LUKS_ITER_TIME_MS}`,
    ...(backing === undefined ? [] : ['-u', '-b', backing, '-F', 'qcow2']),
    target, String(sizeBytes),
  ];
}

/**
 * Creates an empty LUKS-encrypted qcow2 image at `target` (under a temp name
 * until complete); `backing` makes it an overlay (external snapshots: every
 * image of a disk's chain under the disk's one passphrase).
 */
export async function createEncryptedImage(target: string, sizeBytes: number, passphrase: string, opts: QemuImgOptions & CommitOptions & { backing?: string } = {}): Promise<void> {
  target = path.resolve(target);
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) fail('INVALID_ARGUMENT', `image size must be a positive whole number of bytes, not ${sizeBytes}`);
  await writeViaTemp(target, opts, (tmp) => withSecretFile(path.dirname(target), passphrase, async (file) => {
    for (let attempt = 1; ; attempt++) {
      const r = await runQemuImg(encryptedCreateArgs(file, tmp, sizeBytes, opts.backing), { ...opts, timeoutMs: opts.timeoutMs ?? 120_000 });
      if (r.code === 0) return;
      // QEMU's PBKDF benchmark reads the thread's CPU time; with tick-based accounting on a busy host it can read 0 ms and give up.
      if (attempt < PBKDF_BENCH_ATTEMPTS && r.stderr.includes(PBKDF_BENCH_FLAKE)) continue;
      fail('DISK_CREATE_FAILED', `creating encrypted qcow2 image ${target} failed: ${stderrTail(r)}`);
    }
  }));
}

/** Whether qemu-img's view of an image is LUKS-encrypted qcow2. Pure. */
export function isLuksQcow2(info: Pick<ImageInfo, 'format' | 'encrypted' | 'encryptFormat'>): boolean {
  return info.format === 'qcow2' && info.encrypted && info.encryptFormat === 'luks';
}

/** DISK_NOT_ENCRYPTED unless the image at `file` is LUKS-encrypted qcow2 (a disk given by path with encrypt: true). */
export async function checkLuksImage(disk: string, file: string, opts: QemuImgOptions = {}): Promise<void> {
  const info = await imageInfo(file, opts); // probed: only read, never opened for the guest this way
  if (isLuksQcow2(info)) return;
  const what = info.format !== 'qcow2' ? `a ${info.format} image, not qcow2` : info.encrypted ? `encrypted with ${info.encryptFormat ?? 'an unknown scheme'}, not LUKS` : 'a qcow2 image that is not encrypted';
  fail('DISK_NOT_ENCRYPTED', `disk ${disk}: ${file} is ${what}, but the spec says encrypt: true`);
}

/** An image for convertKeyed: its format and, when it is LUKS-encrypted, its passphrase. */
export interface KeyedImage {
  path: string;
  format: ImageFormat;
  passphrase?: string | undefined;
  /** Encrypted qcow2 with backing images (external snapshots, incremental backups), all under the same passphrase: how many. */
  backingDepth?: number;
}

/** `driver=…,file.filename=…[,encrypt.key-secret=ID[,backing.encrypt.key-secret=ID…]]` for --image-opts (commas doubled). Pure. */
export function keyedImageOpts(img: KeyedImage, secretId: string): string {
  const base = `driver=${img.format},file.driver=file,file.filename=${path.resolve(img.path).replace(/,/g, ',,')}`;
  if (img.passphrase === undefined) return base;
  const layers = Array.from({ length: img.backingDepth ?? 0 }, (_, i) => `,${'backing.'.repeat(i + 1)}encrypt.key-secret=${secretId}`);
  return `${base},encrypt.key-secret=${secretId}${layers.join('')}`;
}

/**
 * --image-opts of an encrypted qcow2 and the `depth` backing images below it,
 * all opened with secret `secretId` (one passphrase per disk, every layer of
 * its chain): `…,encrypt.key-secret=ID,backing.encrypt.key-secret=ID,…`. Pure.
 */
export function keyedChainOpts(file: string, depth: number, secretId: string): string {
  return keyedImageOpts({ path: file, format: 'qcow2', passphrase: '', backingDepth: depth }, secretId);
}

/**
 * Copies the guest-visible data of `src` into the existing image `dst` (made
 * beforehand at its full size, e.g. encrypted by createEncryptedImage):
 * `qemu-img convert -n --image-opts … --target-image-opts …`, each passphrase
 * in its own 0600 file beside `dst`, removed when qemu-img is done.
 */
export async function convertKeyed(src: KeyedImage, dst: KeyedImage, opts: QemuImgOptions & { onProgress?: (fraction: number) => void } = {}): Promise<void> {
  const dir = path.dirname(path.resolve(dst.path));
  const progress = opts.onProgress ? progressParser(opts.onProgress) : undefined;
  const run = async (srcFile: string | undefined, dstFile: string | undefined): Promise<void> => {
    const objects = [
      ...(srcFile ? ['--object', `secret,id=sec-src,file=${srcFile}`] : []),
      ...(dstFile ? ['--object', `secret,id=sec-dst,file=${dstFile}`] : []),
    ];
    const args = ['convert', ...(progress ? ['-p'] : []), ...objects, '--image-opts', keyedImageOpts(src, 'sec-src'), '-n', '--target-image-opts', keyedImageOpts(dst, 'sec-dst')];
    const r = await runQemuImg(args, { ...opts, timeoutMs: opts.timeoutMs ?? 6 * 3600_000, ...(progress ? { onStdout: (c: string) => progress.push(c) } : {}) });
    if (r.code !== 0) fail('DISK_CREATE_FAILED', `copying ${src.path} into ${dst.path} failed: ${stderrTail(r)}`);
  };
  const withDst = (srcFile: string | undefined): Promise<void> => (dst.passphrase === undefined ? run(srcFile, undefined) : withSecretFile(dir, dst.passphrase, (f) => run(srcFile, f)));
  await (src.passphrase === undefined ? withDst(undefined) : withSecretFile(dir, src.passphrase, withDst));
  progress?.done();
}
