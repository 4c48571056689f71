/**
 * scripts/release.sh and `polyvisor release verify` end to end (docs/releasing.md), in a clone of
 * the checkout's HEAD in a temp dir — the real checkout's package.json, tags and changelog are
 * never touched. Real git, npm (pack), the real build, openssl with an Ed25519 key pair the test
 * makes. The appliance images are left out (--skip-appliance): building them is
 * test/appliance.test.ts's job, and the step here is one `polyvisor appliance build` call.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/http.js';
import { limit } from './helpers/limits.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const VERSION = '1.0.0-rc.1';
/** One release builds dist/ from scratch (tsc, esbuild, vite) and packs it: minutes on 2 busy cores. */
const RELEASE_MS = limit('operation', 5);

interface Ran { code: number; stdout: string; stderr: string }

function sh(cmd: string, args: string[], cwd: string): Promise<Ran> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function ok(cmd: string, args: string[], cwd: string): Promise<string> {
  const r = await sh(cmd, args, cwd);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return r.stdout.trim();
}

let tmp: string;
let clone: string;
let out: string;
let key: string;
let pub: string;
let wrongPub: string;
let first: Ran;
const realState = { version: '', tags: '' };
const release = (args: string[]): Promise<Ran> => sh('bash', [path.join(clone, 'scripts', 'release.sh'), ...args], clone);

beforeAll(async () => {
  realState.version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  realState.tags = await ok('git', ['tag', '--list'], ROOT);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'pv-release-'));
  clone = path.join(tmp, 'clone');
  out = path.join(tmp, 'out');
  key = path.join(tmp, 'release.key');
  pub = path.join(tmp, 'release.pub.pem');
  wrongPub = path.join(tmp, 'wrong.pub.pem');
  await ok('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', key], tmp);
  await ok('openssl', ['pkey', '-in', key, '-pubout', '-out', pub], tmp);
  await ok('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', path.join(tmp, 'wrong.key')], tmp);
  await ok('openssl', ['pkey', '-in', path.join(tmp, 'wrong.key'), '-pubout', '-out', wrongPub], tmp);
  await ok('git', ['clone', '--quiet', ROOT, clone], tmp);
  await ok('git', ['config', 'user.name', 'Polyvisor release test'], clone);
  await ok('git', ['config', 'user.email', 'release-test@polyvisor.invalid'], clone);
  // The checkout's node_modules, so the build and npm pack need no network; a symlink is not the
  // directory .gitignore names, so the clone's own exclude file hides it from the clean-tree check.
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules'));
  appendFileSync(path.join(clone, '.git', 'info', 'exclude'), '/node_modules\n');
}, limit('operation'));

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('scripts/release.sh', () => {
  it('refuses a bad VERSION, a bad key and a dirty tree, changing nothing', async () => {
    const head = await ok('git', ['rev-parse', 'HEAD'], clone);
    const bad = await release(['1.2', '--key', key, '--out', out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not semver/);
    expect((await release(['v1.2.0', '--key', key, '--out', out])).stderr).toMatch(/without the v: 1\.2\.0/);
    const noKey = await release([VERSION, '--key', pub, '--out', out]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/not an Ed25519 private key/);
    writeFileSync(path.join(clone, 'stray.txt'), 'x');
    const dirty = await release([VERSION, '--key', key, '--out', out]);
    rmSync(path.join(clone, 'stray.txt'));
    expect(dirty.code).toBe(1);
    expect(dirty.stderr).toMatch(/uncommitted or untracked changes[\s\S]*stray\.txt/);
    expect(await ok('git', ['rev-parse', 'HEAD'], clone)).toBe(head);
    expect(await ok('git', ['status', '--porcelain'], clone)).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('bumps the version, writes the changelog, commits, tags, packs and signs', async () => {
    const prev = (await sh('git', ['describe', '--tags', '--abbrev=0', '--match', 'v[0-9]*'], clone)).stdout.trim();
    const subjects = (await ok('git', ['log', '--no-merges', '--format=%s', prev ? `${prev}..HEAD` : 'HEAD'], clone)).split('\n');
    const before = subjects.filter((s) => !/^release \d/.test(s)).length;
    first = await release([VERSION, '--key', key, '--out', out, '--skip-appliance']);
    if (first.code !== 0) throw new Error(`release.sh failed (${first.code}): ${first.stderr.slice(-3000)}`);
    expect(first.stdout.trim().split('\n').pop()).toBe(out);

    expect(await ok('git', ['log', '-1', '--format=%s'], clone)).toBe(`release ${VERSION}`);
    expect(await ok('git', ['cat-file', '-t', `v${VERSION}`], clone)).toBe('tag'); // annotated
    expect(await ok('git', ['rev-parse', `v${VERSION}^{commit}`], clone)).toBe(await ok('git', ['rev-parse', 'HEAD'], clone));
    for (const f of ['package.json', 'package-lock.json']) {
      const j = JSON.parse(readFileSync(path.join(clone, f), 'utf8')) as { version: string; packages?: Record<string, { version?: string }> };
      expect(j.version, f).toBe(VERSION);
      if (j.packages) expect(j.packages['']?.version, f).toBe(VERSION);
    }
    // The built CLI of the clone reports the new version.
    expect(await ok(process.execPath, [path.join(clone, 'bin', 'polyvisor.js'), '--version'], clone)).toBe(VERSION);

    const changelog = readFileSync(path.join(clone, 'CHANGELOG.md'), 'utf8');
    expect(changelog).toMatch(new RegExp(`^## ${VERSION.replace(/\./g, '\\.')} - \\d{4}-\\d{2}-\\d{2}$`, 'm'));
    expect(changelog).toContain(prev ? `${before} commit(s) since ${prev}.` : `First release: ${before} commit(s).`);
    const section = changelog.split(/^## /m)[1] ?? '';
    const entries = section.match(/^- .* \([0-9a-f]{7,}\)$/gm) ?? [];
    expect(entries.length).toBe(before);
    expect(changelog).toMatch(/^### (Changes|Fixes|Documentation|Tests|Benchmarks|Build and CI|Tidying)$/m);

    const sums = readFileSync(path.join(out, 'SHA256SUMS'), 'utf8');
    expect(sums.split('\n').filter(Boolean).map((l) => l.split('  ')[1]).sort()).toEqual([`polyvisor-${VERSION}-src.tar.gz`, `polyvisor-${VERSION}.tgz`]);
    expect(readFileSync(path.join(out, 'SHA256SUMS.sig')).length).toBe(64);
    // The tag's message records the checksums.
    expect(await ok('git', ['tag', '-l', '--format=%(contents)', `v${VERSION}`], clone)).toContain(sums.trim());

    const listing = await ok('tar', ['tzf', path.join(out, `polyvisor-${VERSION}.tgz`)], tmp);
    expect(listing).toMatch(/^package\/dist\/cli\/main\.js$/m);
    expect(listing).toMatch(/^package\/dist\/web\/index\.html$/m);
    expect(listing).toMatch(/^package\/CHANGELOG\.md$/m);
    expect(listing).toMatch(/^package\/guest\/appliance\/build\.sh$/m);
    expect(listing).not.toMatch(/^package\/(src|test)\//m);
    const packed = JSON.parse(await ok('tar', ['xzOf', path.join(out, `polyvisor-${VERSION}.tgz`), 'package/package.json'], tmp)) as { version: string };
    expect(packed.version).toBe(VERSION);
  }, RELEASE_MS);

  it('leaves the real checkout alone', async () => {
    expect((JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version).toBe(realState.version);
    expect(await ok('git', ['tag', '--list'], ROOT)).toBe(realState.tags);
  });

  it('is verified by `polyvisor release verify` and by openssl and sha256sum as peers', async () => {
    const r = await runCli(['release', 'verify', out, '--key', pub]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^OK +polyvisor-${VERSION.replace(/\./g, '\\.')}\\.tgz$`, 'm'));
    expect(r.stdout).toMatch(/^signature: valid/m);
    const j = await runCli(['--json', 'release', 'verify', out, '--key', pub]);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: true, signature: 'valid', extra: [] });
    expect(await ok('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', 'SHA256SUMS', '-sigfile', 'SHA256SUMS.sig'], out)).toMatch(/Signature Verified Successfully/);
    expect((await sh('sha256sum', ['-c', 'SHA256SUMS'], out)).code).toBe(0);
  });

  it('a second run for the same VERSION says it exists and stops without damage', async () => {
    const head = await ok('git', ['rev-parse', 'HEAD'], clone);
    const sums = readFileSync(path.join(out, 'SHA256SUMS'), 'utf8');
    const again = await release([VERSION, '--key', key, '--out', out, '--skip-appliance']);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(new RegExp(`release ${VERSION.replace(/\./g, '\\.')} exists: tag v${VERSION.replace(/\./g, '\\.')}`));
    expect(await ok('git', ['rev-parse', 'HEAD'], clone)).toBe(head);
    expect(readFileSync(path.join(out, 'SHA256SUMS'), 'utf8')).toBe(sums);
    expect(await ok('git', ['status', '--porcelain'], clone)).toBe('');
  });

  it('verify fails naming a tampered file, and fails the signature with the wrong key', async () => {
    const tgz = path.join(out, `polyvisor-${VERSION}.tgz`);
    const bytes = readFileSync(tgz);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0xff;
    writeFileSync(tgz, bytes);
    const tampered = await runCli(['release', 'verify', out, '--key', pub]);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain('error[RELEASE_CHECKSUM_MISMATCH]');
    expect(tampered.stderr).toContain(`changed: polyvisor-${VERSION}.tgz`);
    expect(tampered.stdout).toMatch(new RegExp(`^CHANGED +polyvisor-${VERSION.replace(/\./g, '\\.')}\\.tgz$`, 'm'));
    bytes[at] = bytes[at]! ^ 0xff;
    writeFileSync(tgz, bytes);

    const wrong = await runCli(['release', 'verify', out, '--key', wrongPub]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('error[RELEASE_SIGNATURE_INVALID]');
    expect((await sh('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', wrongPub, '-rawin', '-in', 'SHA256SUMS', '-sigfile', 'SHA256SUMS.sig'], out)).code).not.toBe(0);
  });
});
