import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../shared/index.js';
import { createEncryptedImage, imageInfo, keyedChainOpts, newDiskPassphrase, qcow2ChainDepthSync, withSecretFile } from '../storage/index.js';
import { backingOf, commitIntoBacking, createOverlayFile, rebaseOnto } from './snapshot-files.js';

// External snapshots of an encrypted disk: real qemu-img and qemu-io (Debian's qemu-utils), nothing faked.
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-encchain-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const MiB = 1024 ** 2;
const signal = new AbortController().signal;

/** qemu-io on `image` opened through its whole chain with `pass`; each command like `write -P 65 0 1M`. Returns the exit code (1 when a pattern check failed). */
async function io(image: string, pass: string, ...cmds: string[]): Promise<number | null> {
  return withSecretFile(dir, pass, async (file) => {
    const args = ['--object', `secret,id=s0,file=${file}`, '--image-opts', keyedChainOpts(image, qcow2ChainDepthSync(image), 's0'), ...cmds.flatMap((c) => ['-c', c])];
    const r = await run('qemu-io', args, { timeoutMs: 60_000 });
    return r.code === 0 && /Pattern verification failed/.test(r.stdout) ? 1 : r.code;
  });
}

/** base (A at 0) ← node (B at 1 MiB) ← top (C at 2 MiB), every image LUKS under `pass`. */
async function chain(pass: string): Promise<{ base: string; node: string; top: string }> {
  const base = path.join(dir, 'd.qcow2');
  const node = path.join(dir, 'd.ext-1.qcow2');
  const top = path.join(dir, 'd.ext-2.qcow2');
  await createEncryptedImage(base, 8 * MiB, pass);
  expect(await io(base, pass, 'write -P 65 0 1M')).toBe(0);
  await createOverlayFile(node, base, 8 * MiB, signal, pass);
  expect(await io(node, pass, 'write -P 66 1M 1M')).toBe(0);
  await createOverlayFile(top, node, 8 * MiB, signal, pass);
  expect(await io(top, pass, 'write -P 67 2M 1M')).toBe(0);
  return { base, node, top };
}

const clearRun = async (file: string, byte: number): Promise<boolean> => (await readFile(file)).includes(Buffer.alloc(4096, byte));

describe('external snapshot files of an encrypted disk', () => {
  it('makes overlays LUKS-encrypted under the disk passphrase, readable through the chain, with no plaintext and no key file left', async () => {
    const pass = newDiskPassphrase();
    const { base, node, top } = await chain(pass);
    for (const f of [node, top]) expect(await imageInfo(f)).toMatchObject({ format: 'qcow2', encrypted: true, encryptFormat: 'luks' });
    expect(qcow2ChainDepthSync(top)).toBe(2);
    expect(qcow2ChainDepthSync(base)).toBe(0);
    expect(await io(top, pass, 'read -P 65 0 1M', 'read -P 66 1M 1M', 'read -P 67 2M 1M')).toBe(0);
    expect(await io(top, newDiskPassphrase(), 'read -P 65 0 1M')).not.toBe(0); // another passphrase opens nothing
    for (const [f, b] of [[base, 65], [node, 66], [top, 67]] as const) expect(await clearRun(f, b)).toBe(false);
    expect((await readdir(dir)).sort()).toEqual(['d.ext-1.qcow2', 'd.ext-2.qcow2', 'd.qcow2']);
  }, 120_000);

  it('merges a node away by rebase (qemu-img cannot open an encrypted new backing: copy + commit) keeping the view', async () => {
    const pass = newDiskPassphrase();
    const { base, node, top } = await chain(pass);
    await rebaseOnto(top, base, signal, pass);
    expect(await backingOf(top, signal)).toBe(base);
    expect(await io(top, pass, 'read -P 65 0 1M', 'read -P 66 1M 1M', 'read -P 67 2M 1M')).toBe(0);
    expect(await io(node, pass, 'read -P 66 1M 1M')).toBe(0); // the node's own file is left as it was (the caller removes it)
    expect(await clearRun(top, 66)).toBe(false);
    expect((await readdir(dir)).sort()).toEqual(['d.ext-1.qcow2', 'd.ext-2.qcow2', 'd.qcow2']); // no copy or key file left
    await rebaseOnto(top, null, signal, pass); // and onto nothing: the base is merged in as well
    expect(await backingOf(top, signal)).toBe(null);
    expect(await io(top, pass, 'read -P 65 0 1M', 'read -P 66 1M 1M', 'read -P 67 2M 1M')).toBe(0);
  }, 120_000);

  it('refuses an encrypted rebase that would drop more than the image below', async () => {
    const pass = newDiskPassphrase();
    const { top } = await chain(pass);
    await expect(rebaseOnto(top, null, signal, pass)).rejects.toMatchObject({ code: 'SNAPSHOT_FAILED' });
    expect(await io(top, pass, 'read -P 65 0 1M', 'read -P 66 1M 1M', 'read -P 67 2M 1M')).toBe(0);
  }, 120_000);

  it('commits an overlay down into its encrypted backing through the whole chain', async () => {
    const pass = newDiskPassphrase();
    const { node, top } = await chain(pass);
    await commitIntoBacking(top, signal, pass);
    expect(await io(node, pass, 'read -P 65 0 1M', 'read -P 66 1M 1M', 'read -P 67 2M 1M')).toBe(0);
    expect(await clearRun(node, 67)).toBe(false);
  }, 120_000);
});
