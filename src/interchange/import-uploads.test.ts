/**
 * Uploads for import on a real folder: a file streams in and is counted,
 * hashed and kept under its own new folder; past the cap, or with a name that
 * is not a plain file name with a format's extension, nothing is kept; an
 * upload is removed by the real import that reads it (the full stub stack's
 * VmService, real qemu-img), not by its dry run; old uploads are swept.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFullStubStack, type FullStubStack } from '../../test/helpers/full-stub-stack.js';
import { isPolyvisorError } from '../shared/index.js';
import { builtinCodecs } from './formats.js';
import { ImportUploads } from './import-uploads.js';
import { InterchangeService } from './interchange-service.js';

let stack: FullStubStack;
let uploads: ImportUploads;
let svc: InterchangeService;
const ctx = () => ({ signal: AbortSignal.timeout(60_000), progress: (): void => undefined });

beforeAll(async () => {
  stack = await openFullStubStack('import-uploads');
  uploads = new ImportUploads(path.join(stack.dir, 'state', 'uploads'), 1024 * 1024);
  svc = new InterchangeService({ vms: stack.service, codecs: builtinCodecs(), uploads });
});
afterAll(() => stack?.close());

const refused = async (p: Promise<unknown>, code: string, re: RegExp): Promise<void> => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(isPolyvisorError(err) && err.code === code, String(err)).toBe(true);
  expect((err as Error).message).toMatch(re);
};

describe('import uploads', () => {
  it('the daemon\'s default keeps uploads in the state folder, beside the VMs\' folder', () => {
    expect(new InterchangeService({ vms: stack.service, codecs: builtinCodecs() }).uploads.dir).toBe(path.join(path.dirname(stack.service.dirOf({ id: 'x' })), '..', 'uploads'));
  });

  it('streams a file into its own folder, with its size and SHA-256', async () => {
    const data = Buffer.alloc(300_000, 7);
    const up = await uploads.save('web.ova', Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]));
    expect([up.file, up.bytes, up.sha256]).toEqual(['web.ova', 300_000, createHash('sha256').update(data).digest('hex')]);
    expect(readFileSync(up.path)).toEqual(data);
    expect(path.dirname(path.dirname(up.path))).toBe(uploads.dir);
    expect(uploads.holds(up.path)).toBe(true);
    expect(uploads.holds('/etc/passwd')).toBe(false);
  });

  it('past the cap, an empty body, or a name that is not a plain file name: nothing is kept', async () => {
    const before = readdirSync(uploads.dir);
    await refused(uploads.save('big.xva', Readable.from([Buffer.alloc(700_000), Buffer.alloc(700_000)])), 'BODY_TOO_LARGE', /passed 1048576 bytes/);
    await refused(uploads.save('empty.ova', Readable.from([])), 'INVALID_ARGUMENT', /empty/);
    for (const bad of ['../x.ova', 'a/b.ova', 'x.exe', '.hidden.ova', 'disk.vmdk']) await refused(uploads.save(bad, Readable.from([Buffer.from('x')])), 'INVALID_ARGUMENT', /filename/);
    expect(readdirSync(uploads.dir)).toEqual(before);
  });

  it('a dry run keeps the upload; the real import that reads it removes it', async () => {
    const src = path.join(stack.dir, 'src');
    mkdirSync(src);
    expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(src, 'd.qcow2'), '4M']).status).toBe(0);
    const conf = 'name: up\nmemory: 64\ncores: 1\nscsi0: local:100/d.qcow2,size=4M\n';
    const up = await uploads.save('up.conf', Readable.from([Buffer.from(conf)]));
    // A descriptor alone: its disk is not uploaded, so the dry run lists it missing and the upload stays.
    const dry = await svc.importFile({ path: up.path, dryRun: true }, ctx());
    expect(dry.disks.map((d) => d.found)).toEqual([false]);
    expect(existsSync(up.path)).toBe(true);
    // Put the disk beside it (as an OVA would carry it) and import for real.
    writeFileSync(path.join(path.dirname(up.path), 'd.qcow2'), readFileSync(path.join(src, 'd.qcow2')));
    await svc.importFile({ path: up.path }, ctx());
    expect(existsSync(path.dirname(up.path))).toBe(false);
    expect(await stack.service.find('up')).toBeDefined();
  });

  it('sweeps uploads older than a day', async () => {
    const up = await uploads.save('old.ovf', Readable.from([Buffer.from('<Envelope/>')]));
    const old = (Date.now() - 25 * 3600_000) / 1000;
    utimesSync(path.dirname(up.path), old, old);
    await uploads.sweep();
    expect(existsSync(up.path)).toBe(false);
  });
});
