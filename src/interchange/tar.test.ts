/**
 * The OVA tar reader and writer: archives we write are read back by GNU tar
 * and by our reader byte for byte; archives GNU tar writes (ustar, pax, GNU
 * long names) are read by ours; hostile archives (absolute names, `..`,
 * links, devices, duplicates, sizes past the file or past 2^53, truncation,
 * bad checksums) are refused with INTERCHANGE_INVALID and nothing is written
 * outside the extraction folder.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { extractMembers } from './tar-extract.js';
import { listTar } from './tar-read.js';
import { memberHeaders, tarHeader, writeTar } from './tar-write.js';

const root = mkdtempSync(path.join(tmpdir(), 'pv-tar-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => {
  const d = path.join(root, `t${n++}`);
  mkdirSync(d);
  return d;
};

/** A header with fields changed after the fact, checksum recomputed. */
function rawHeader(name: string, size: number, change: (h: Buffer) => void = () => undefined): Buffer {
  const h = tarHeader(name, size);
  change(h);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return h;
}
const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
const END = Buffer.alloc(1024);
const member = (name: string, data: string, change?: (h: Buffer) => void): Buffer => Buffer.concat([rawHeader(name, Buffer.byteLength(data), change), pad(Buffer.from(data))]);

function archive(...parts: Buffer[]): string {
  const f = path.join(fresh(), 'x.ova');
  writeFileSync(f, Buffer.concat(parts));
  return f;
}

async function refused(f: string, pattern: RegExp): Promise<void> {
  const err = await listTar(f).then(() => undefined, (e: unknown) => e);
  expect(isPolyvisorError(err) && err.code === 'INTERCHANGE_INVALID', String(err)).toBe(true);
  expect((err as Error).message).toMatch(pattern);
}

describe('tar writer', () => {
  it('writes members in order, reproducibly, and GNU tar lists and extracts them', async () => {
    const d = fresh();
    writeFileSync(path.join(d, 'a.ovf'), '<Envelope/>');
    writeFileSync(path.join(d, 'a.mf'), '');
    writeFileSync(path.join(d, 'disk.vmdk'), Buffer.alloc(70_000, 7));
    const files = ['a.ovf', 'a.mf', 'disk.vmdk'].map((f) => ({ name: f, path: path.join(d, f) }));
    const one = await writeTar(path.join(d, 'one.ova'), files);
    const two = await writeTar(path.join(d, 'two.ova'), files);
    expect(one.sha256).toBe(two.sha256);
    expect(readFileSync(path.join(d, 'one.ova')).length).toBe(one.bytes);
    expect(one.bytes % 512).toBe(0);
    const listing = execFileSync('tar', ['-tvf', path.join(d, 'one.ova')], { encoding: 'utf8' }).trim().split('\n');
    expect(listing.map((l) => l.split(/\s+/).at(-1))).toEqual(['a.ovf', 'a.mf', 'disk.vmdk']);
    expect(listing[0]).toMatch(/^-rw-r--r-- 0\/0 .* 1970-01-01 00:00 a\.ovf$/);
    const x = path.join(d, 'x');
    mkdirSync(x);
    execFileSync('tar', ['-xf', path.join(d, 'one.ova'), '-C', x]);
    expect(readFileSync(path.join(x, 'disk.vmdk')).equals(Buffer.alloc(70_000, 7))).toBe(true);
    expect((await listTar(path.join(d, 'one.ova'))).map((m) => [m.name, m.size])).toEqual([['a.ovf', 11], ['a.mf', 0], ['disk.vmdk', 70_000]]);
  });

  it('puts a long name and a size past 8 GiB in a pax header', () => {
    const long = `${'n'.repeat(150)}.vmdk`;
    const h = memberHeaders(long, 9 * 1024 ** 3);
    expect(h.subarray(156, 157).toString()).toBe('x');
    const pax = h.subarray(512, 1024).toString('utf8');
    expect(pax).toContain(`path=${long}\n`);
    expect(pax).toContain(`size=${9 * 1024 ** 3}\n`);
    for (const m of pax.replace(/\0+$/, '').split('\n').filter(Boolean)) expect(Buffer.byteLength(m) + 1).toBe(parseInt(m, 10));
  });
});

describe('tar reader', () => {
  it('reads GNU tar\'s ustar, pax and GNU long-name archives, skipping directories', async () => {
    const d = fresh();
    const src = path.join(d, 'src');
    mkdirSync(path.join(src, 'Ref:1'), { recursive: true });
    writeFileSync(path.join(src, 'ova.xml'), '<value/>');
    writeFileSync(path.join(src, 'Ref:1', '00000000'), 'chunk');
    const long = `${'l'.repeat(120)}.vmdk`;
    writeFileSync(path.join(src, long), 'x');
    for (const format of ['ustar', 'pax', 'gnu']) {
      const f = path.join(d, `${format}.tar`);
      const names = format === 'ustar' ? ['ova.xml', 'Ref:1'] : ['ova.xml', 'Ref:1', long];
      execFileSync('tar', [`--format=${format}`, '-cf', f, '-C', src, ...names]);
      const members = await listTar(f);
      expect(members.map((m) => m.name).sort(), format).toEqual([...(format === 'ustar' ? [] : [long]), 'Ref:1/00000000', 'ova.xml'].sort());
      const x = path.join(d, `x-${format}`);
      mkdirSync(x);
      await extractMembers(f, members, x);
      expect(readFileSync(path.join(x, 'Ref:1', '00000000'), 'utf8')).toBe('chunk');
    }
  });

  it('hashes members while extracting them', async () => {
    const f = archive(member('a.ovf', 'hello'), END);
    const d = fresh();
    const digests = await extractMembers(f, await listTar(f), d, { hashes: () => ['sha1', 'sha256'] });
    expect(digests.get('a.ovf')).toEqual({
      sha1: 'aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d',
      sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
    });
  });

  it('refuses absolute names, .. and backslashes (also through pax and GNU long names)', async () => {
    await refused(archive(member('/etc/passwd', 'x'), END), /absolute name/);
    await refused(archive(member('../evil', 'x'), END), /parent folder/);
    await refused(archive(member('a/../../evil', 'x'), END), /parent folder/);
    await refused(archive(member('C:\\evil', 'x'), END), /absolute name/);
    await refused(archive(member('a\\..\\evil', 'x'), END), /backslash/);
    const paxData = '25 path=../../etc/shadow\n';
    await refused(archive(member('PaxHeader', paxData, (h) => h.write('x', 156)), member('safe.ovf', 'x'), END), /parent folder/);
    await refused(archive(member('././@LongLink', '/root/.ssh/authorized_keys\0', (h) => h.write('L', 156)), member('safe.ovf', 'x'), END), /absolute name/);
  });

  it('refuses links, devices, FIFOs and unknown types', async () => {
    await refused(archive(member('disk.vmdk', '', (h) => { h.write('2', 156); h.write('/etc/shadow', 157); }), END), /symbolic link/);
    await refused(archive(member('disk.vmdk', '', (h) => { h.write('1', 156); h.write('a.ovf', 157); }), END), /hard link/);
    await refused(archive(member('dev', '', (h) => h.write('3', 156)), END), /character device/);
    await refused(archive(member('dev', '', (h) => h.write('4', 156)), END), /block device/);
    await refused(archive(member('fifo', '', (h) => h.write('6', 156)), END), /FIFO/);
    await refused(archive(member('odd', '', (h) => h.write('Q', 156)), END), /unknown tar type/);
  });

  it('refuses a name given twice', async () => {
    await refused(archive(member('a.ovf', 'x'), member('./a.ovf', 'y'), END), /twice/);
  });

  it('refuses truncation: a member past the end, a cut header, no end blocks', async () => {
    const whole = Buffer.concat([member('a.ovf', 'x'.repeat(2000)), END]);
    await refused(archive(whole.subarray(0, 1500)), /truncated/);
    await refused(archive(whole.subarray(0, 700)), /truncated/);
    await refused(archive(whole.subarray(0, whole.length - 1024)), /truncated/);
    await refused(archive(Buffer.alloc(0)), /truncated/);
  });

  it('refuses sizes that overflow or point past the file', async () => {
    await refused(archive(rawHeader('big.vmdk', 0, (h) => { h[124] = 0x80; h.fill(0xff, 125, 136); }), END), /past 2\^53/);
    await refused(archive(rawHeader('big.vmdk', 0, (h) => h.write('77777777777\0', 124, 'latin1')), END), /claims 8589934591 bytes/);
    await refused(archive(member('PaxHeader', '29 size=99999999999999999999\n', (h) => h.write('x', 156)), member('a.ovf', 'x'), END), /pax size/);
    await refused(archive(rawHeader('a.ovf', 0, (h) => h.write('12x4\0', 124, 'latin1')), END), /not an octal number/);
  });

  it('refuses a bad checksum and something that is not a tar', async () => {
    const bad = member('a.ovf', 'x');
    bad[0] = 'b'.charCodeAt(0);
    await refused(archive(bad, END), /checksum/);
    await refused(archive(Buffer.from('<?xml version="1.0"?><Envelope/>'.padEnd(2048))), /not a ustar/);
  });

  it('extraction never writes outside its folder or over a file', async () => {
    const d = fresh();
    const f = archive(member('a.ovf', 'x'), END);
    await expect(extractMembers(f, [{ name: '../escape', offset: 512, size: 1 }], path.join(d, 'in'))).rejects.toThrow(/outside the import folder/);
    mkdirSync(path.join(d, 'in'));
    writeFileSync(path.join(d, 'in', 'a.ovf'), 'mine');
    await expect(extractMembers(f, await listTar(f), path.join(d, 'in'))).rejects.toThrow(/collides/);
    expect(readFileSync(path.join(d, 'in', 'a.ovf'), 'utf8')).toBe('mine');
    expect(readdirSync(d)).toEqual(['in']);
  });
});
