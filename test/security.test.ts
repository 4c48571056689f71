/**
 * Issue 23 against a real daemon (no VMs: light): private file modes and the
 * umask (audit defect 11; the state directory and vmsDir 0710 to the QEMU range's group with qemuUser: per-vm), the secrets store through the CLI with a planted
 * value that appears nowhere in clear, tokens read from a file or standard
 * input (defect 13), host files in a spec only for admins or inside pools
 * (defect 2), security headers, and wrong tokens rate-limited.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qemuConfined, ROOT, startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { testGuest } from './helpers/guest.js';
import { httpCall } from './helpers/http.js';

const PLANTED = 'planted-Secret-4b7d-never-in-clear';
const PEER_TOKEN = 'pvt_planted-peer-token-never-in-clear';
const configDir = path.join(tempStateDir('sec-cfg'), 'polyvisor');
let d: TestDaemon;
let stateDir: string;

beforeAll(async () => {
  d = await startDaemon();
  stateDir = d.stateDir;
});
afterAll(async () => {
  await d?.stop();
});

/** The CLI with `input` on its standard input. */
function cli(args: string[], input = '', env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bin', 'polyvisor.js'), ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, POLYVISOR_CONFIG_DIR: configDir, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    p.stdin.end(input);
  });
}
const local = (args: string[], input?: string) => cli(['--socket', d.socket, ...args], input);
const mode = (p: string): number => statSync(p).mode & 0o777;

/**
 * With qemuUser: per-vm the state directory and vmsDir are root:BASE 0710 (the VMs' QEMUs pass through, no
 * listing; docs/security.md "QEMU as its own user"), else 0700; the cache stays 0700 either way.
 */
function assertPrivate(dir: string): void {
  const passable = qemuConfined() ? 0o710 : 0o700;
  for (const sub of ['', 'vms']) {
    const p = path.join(dir, sub);
    expect(mode(p), sub || 'state directory').toBe(passable);
    expect(statSync(p).uid, sub || 'state directory').toBe(0);
    if (qemuConfined()) expect(statSync(p).gid, sub || 'state directory').toBe(d.qemuUidBase);
  }
  expect(mode(path.join(dir, 'cache')), 'cache').toBe(0o700);
  for (const f of ['polyvisor.db', 'polyvisor.db-wal', 'polyvisor.db-shm', 'secrets.key', 'daemon.json']) {
    const p = path.join(dir, f);
    if (f !== 'polyvisor.db-shm' || existsSync(p)) expect(mode(p), f).toBe(0o600);
  }
}

describe('private state (audit defect 11)', () => {
  it('umask 077, the state directory 0700, database, key and info files 0600, the socket 0600 inside it', () => {
    const status = readFileSync(`/proc/${d.pid}/status`, 'utf8');
    expect(status).toMatch(/^Umask:\s+0077$/m);
    assertPrivate(stateDir);
    expect(path.dirname(d.socket)).toBe(stateDir);
    expect(statSync(d.socket).isSocket()).toBe(true);
    expect(mode(d.socket)).toBe(0o600);
  });
});

describe('secrets store', () => {
  it('set from standard input and from a file, list shows names only, rm, rotate-key; an operator is refused', async () => {
    const set = await local(['secret', 'set', 'db-pass'], `${PLANTED}\n`);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe('db-pass: stored\n');
    const file = path.join(tempStateDir('sec-file'), 'v');
    writeFileSync(file, `${PLANTED}-file`);
    expect((await local(['secret', 'set', 'from-file', '--from-file', file])).code).toBe(0);
    const list = await local(['secret', 'list', '--json']);
    expect((JSON.parse(list.stdout) as Array<{ name: string }>).map((s) => s.name)).toEqual(['db-pass', 'from-file']);
    expect(list.stdout).not.toContain(PLANTED);
    const rot = await local(['secret', 'rotate-key']);
    expect(rot.code, rot.stderr).toBe(0);
    expect(rot.stdout).toMatch(/2 secret\(s\) re-encrypted/);
    expect((await local(['secret', 'rm', 'from-file'])).stdout).toBe('from-file: removed\n');
    const missing = await local(['secret', 'rm', 'from-file']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/no secret named from-file/);
    expect((await local(['secret', 'set', 'empty'], '')).code).toBe(2);
    const op = (await local(['token', 'create', 'sec-op', '--role', 'operator'])).stdout.trim();
    const refused = await httpCall(d.url, 'GET', '/v1/secrets', { token: op });
    expect([refused.status, (refused.json as { code: string }).code]).toEqual([403, 'FORBIDDEN']);
  });

  it('the planted value is nowhere in clear: database, state files, daemon log, argv', () => {
    const needle = Buffer.from(PLANTED);
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(dir, e.name);
      return e.isDirectory() ? walk(p) : e.isFile() ? [p] : [];
    });
    for (const f of walk(stateDir)) expect(readFileSync(f).includes(needle), f).toBe(false);
    expect(d.log()).not.toContain(PLANTED);
    expect(readFileSync(`/proc/${d.pid}/cmdline`).includes(needle)).toBe(false);
  });
});

describe('remote tokens out of argv (audit defect 13)', () => {
  let token: string;
  beforeAll(async () => {
    token = (await local(['token', 'create', 'sec-viewer', '--role', 'viewer'])).stdout.trim();
  });
  const remoteToken = (name: string): string | undefined =>
    (JSON.parse(readFileSync(path.join(configDir, 'remotes.json'), 'utf8')) as { remotes: Record<string, { token?: string }> }).remotes[name]?.token;

  it('--token-file and --token-stdin store the token without a warning; --token still works but warns', async () => {
    const file = path.join(tempStateDir('sec-tok'), 'token');
    writeFileSync(file, `${token}\n`);
    const a = await cli(['remote', 'add', 'by-file', d.url, '--token-file', file]);
    expect([a.code, a.stderr]).toEqual([0, '']);
    expect(remoteToken('by-file')).toBe(token);
    const b = await cli(['remote', 'add', 'by-stdin', d.url, '--token-stdin'], `${token}\n`);
    expect([b.code, b.stderr]).toEqual([0, '']);
    expect(remoteToken('by-stdin')).toBe(token);
    expect((await cli(['--remote', 'by-stdin', 'vm', 'list', '--json'])).stdout.trim()).toBe('[]');
    const c = await cli(['remote', 'add', 'by-argv', d.url, '--token', token]);
    expect(c.code).toBe(0);
    expect(c.stderr).toMatch(/warning: --token puts the token where `ps` and your shell history show it/);
    expect(remoteToken('by-argv')).toBe(token);
    expect((await cli(['remote', 'add', 'both', d.url, '--token', token, '--token-stdin'], token)).code).toBe(2);
  });
});

describe('host files in a spec (audit defect 2)', () => {
  const spec = (name: string, extra: Record<string, unknown>) => ({ spec: { version: 1, name, memory: '64Mi', ...extra } });
  let op: string;
  let admin: string;
  beforeAll(async () => {
    op = (await local(['token', 'create', 'paths-op', '--role', 'operator'])).stdout.trim();
    admin = (await local(['token', 'create', 'paths-admin', '--role', 'admin'])).stdout.trim();
  });

  it('an operator may not name /etc/shadow, the database or a kernel outside the pools; the answer is the same for a file that does not exist and nothing is created', async () => {
    const answers = [];
    for (const extra of [
      { disks: [{ name: 'd', path: '/etc/shadow' }] },
      { disks: [{ name: 'd', path: path.join(stateDir, 'polyvisor.db') }] },
      { disks: [{ name: 'd', path: '/etc/no-such-file-here' }] },
      { boot: { kernel: '/boot/vmlinuz-anything' } },
    ]) {
      const r = await httpCall(d.url, 'POST', '/v1/vms', { token: op, body: spec('steal', extra) });
      expect(r.status).toBe(403);
      expect((r.json as { code: string }).code).toBe('PATH_NOT_ALLOWED');
      answers.push((r.json as { message: string }).message.replace(/: \/\S+ is/, ': X is'));
    }
    expect(answers[0]).toBe(answers[2]); // existing and missing files read alike
    expect((await httpCall(d.url, 'GET', '/v1/vms/steal', { token: op })).status).toBe(404);
  });

  it("a volume of a pool is the operator's to use; a clone or an edit naming a host file is refused; an admin may name any file", async () => {
    expect((await local(['volume', 'create', 'default', 'sec-vol', '--size', '16Mi'])).code).toBe(0);
    const vol = (await httpCall(d.url, 'GET', '/v1/pools/default/volumes/sec-vol', { token: op })).json as { path: string };
    const made = await httpCall(d.url, 'POST', '/v1/vms', { token: op, body: spec('pooled', { disks: [{ name: 'd', path: vol.path }] }) });
    expect(made.status).toBe(201);
    const edit = await httpCall(d.url, 'PUT', '/v1/vms/pooled', { token: op, body: spec('pooled', { disks: [{ name: 'd', path: vol.path }], boot: { kernel: '/etc/shadow' } }) });
    expect([edit.status, (edit.json as { code: string }).code]).toEqual([403, 'PATH_NOT_ALLOWED']);
    const clone = await httpCall(d.url, 'POST', '/v1/vms/pooled/clone', { token: op, body: { name: 'pooled2', ...spec('pooled2', { disks: [{ name: 'd', path: '/etc/shadow', readOnly: true }] }) } });
    expect([clone.status, (clone.json as { code: string }).code]).toEqual([403, 'PATH_NOT_ALLOWED']);
    const byAdmin = await httpCall(d.url, 'POST', '/v1/vms', { token: admin, body: spec('admins', { disks: [{ name: 'd', path: '/etc/hostname', readOnly: true }] }) });
    expect(byAdmin.status).toBe(201);
    for (const vm of ['pooled', 'admins']) expect((await local(['vm', 'rm', vm])).code).toBe(0);
    expect((await local(['volume', 'rm', 'default', 'sec-vol'])).code).toBe(0);
  });
});

describe('tokens that expire, and the audit log (audit defect 13, retention)', () => {
  it('a token with an expiry works until then, then answers 401 TOKEN_EXPIRED; token list shows when', async () => {
    const soon = new Date(Date.now() + 3000).toISOString();
    const made = await httpCall(d.url, 'POST', '/v1/tokens', { token: (await local(['token', 'create', 'exp-admin', '--role', 'admin'])).stdout.trim(), body: { name: 'short', role: 'viewer', expiresAt: soon } });
    expect(made.status).toBe(201);
    const short = (made.json as { token: string; expiresAt: string }).token;
    expect((made.json as { expiresAt: string }).expiresAt).toBe(soon);
    expect((await httpCall(d.url, 'GET', '/v1/vms', { token: short })).status).toBe(200);
    await new Promise((r) => setTimeout(r, Date.parse(soon) - Date.now() + 200));
    const late = await httpCall(d.url, 'GET', '/v1/vms', { token: short });
    expect([late.status, (late.json as { code: string }).code]).toEqual([401, 'TOKEN_EXPIRED']);
    const list = await local(['token', 'list']);
    expect(list.stdout).toMatch(new RegExp(`short\\s+viewer\\s+\\S+\\s+\\S+\\s+\\S+\\s+${soon.replace(/[.]/g, '\\.')}`));
    const cli = await local(['token', 'create', 'quarter', '--role', 'viewer', '--expires', '90d', '--json']);
    const days = (Date.parse((JSON.parse(cli.stdout) as { expiresAt: string }).expiresAt) - Date.now()) / 86_400_000;
    expect(Math.round(days)).toBe(90);
    for (const bad of [['--expires', 'soon'], ['--expires', '2001-01-01']]) {
      const r = await local(['token', 'create', 'never-made', '--role', 'viewer', ...bad]);
      expect(r.code, bad.join(' ')).toBe(2);
    }
    expect((await local(['token', 'list', '--json'])).stdout).not.toContain('never-made');
  });

  it('audit list --since shows what happened since then, the refused expired token included', async () => {
    const r = await local(['audit', 'list', '--since', '10m', '--json']);
    expect(r.code).toBe(0);
    const entries = JSON.parse(r.stdout) as { actor: string; action: string; outcome: string; at: string }[];
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => Date.parse(e.at) >= Date.now() - 11 * 60_000)).toBe(true);
    expect(entries).toContainEqual(expect.objectContaining({ action: 'POST /v1/tokens', outcome: 'ok' }));
    expect(entries.some((e) => e.action === 'GET /v1/vms' && e.outcome === 'denied')).toBe(true);
    expect(JSON.parse((await local(['audit', 'list', '--since', '2099-01-01', '--json'])).stdout)).toEqual([]);
    expect((await local(['audit', '--since', 'yesterday'])).code).toBe(2);
  });
});

describe('where operators may move VMs (audit defect 7)', () => {
  it('a URL of the operator\'s choosing is refused before anything connects; registered peers are listed without tokens and resolved by name', async () => {
    const op = (await local(['token', 'create', 'mig-op', '--role', 'operator'])).stdout.trim();
    // A listener standing for "a server of the operator's own": it must never be contacted.
    let contacted = 0;
    const trap = net.createServer((c) => {
      contacted++;
      c.destroy();
    });
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
    const trapUrl = `http://127.0.0.1:${(trap.address() as net.AddressInfo).port}`;
    try {
      const raw = await httpCall(d.url, 'POST', '/v1/vms/any/migrate', { token: op, body: { target: { url: trapUrl, token: 'pvt_whatever-token' } } });
      expect([raw.status, (raw.json as { code: string }).code]).toEqual([403, 'MIGRATION_TARGET_NOT_ALLOWED']);
      const bulk = await httpCall(d.url, 'POST', '/v1/vms/actions', { token: op, body: { action: 'migrate', selector: 'app=none', options: { target: { url: trapUrl, token: 'pvt_whatever-token' } } } });
      expect([bulk.status, (bulk.json as { code: string }).code]).toEqual([403, 'MIGRATION_TARGET_NOT_ALLOWED']);
      // The admin registers a peer; its token goes to the secrets store.
      const tokenFile = path.join(tempStateDir('peer-tok'), 'token');
      writeFileSync(tokenFile, `${PEER_TOKEN}\n`);
      const added = await local(['peer', 'add', 'b', trapUrl, '--token-file', tokenFile]);
      expect(added.code, added.stderr).toBe(0);
      expect((await cli(['--url', d.url, 'peer', 'add', 'c', trapUrl, '--token-file', tokenFile], '', { POLYVISOR_TOKEN: op })).code).toBe(2); // operators may not
      const listed = await cli(['--url', d.url, 'peer', 'list', '--json'], '', { POLYVISOR_TOKEN: op });
      expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ name: 'b', url: trapUrl, tlsFingerprint: null })]);
      expect(listed.stdout).not.toContain(PEER_TOKEN);
      // Named, the peer is resolved (the move then fails on the VM, not on the target check).
      const byName = await httpCall(d.url, 'POST', '/v1/vms/any/migrate', { token: op, body: { peer: 'b' } });
      expect([byName.status, (byName.json as { code: string }).code]).toEqual([404, 'VM_NOT_FOUND']);
      const unknown = await httpCall(d.url, 'POST', '/v1/vms/any/migrate', { token: op, body: { peer: 'nope' } });
      expect([unknown.status, (unknown.json as { code: string }).code]).toEqual([404, 'PEER_NOT_FOUND']);
      expect(contacted).toBe(0);
      expect(readFileSync(path.join(stateDir, 'secrets.json'), 'utf8')).not.toContain(PEER_TOKEN);
      expect(d.log()).not.toContain(PEER_TOKEN);
      expect((await local(['peer', 'rm', 'b'])).code).toBe(0);
      expect(JSON.parse((await local(['peer', 'list', '--json'])).stdout)).toEqual([]);
    } finally {
      trap.close();
    }
  });
});

describe('a start the host cannot hold (audit defect 10)', () => {
  it('a VM needing more RAM than the host has available is refused with the figures, and stays as it was', async () => {
    const g = testGuest();
    expect((await local(['vm', 'create', 'huge', '--memory', '64Gi', '--kernel', g.kernel, '--initrd', g.initrd])).code).toBe(0);
    const r = await local(['vm', 'start', 'huge']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/error\[HOST_MEMORY_LOW\]: VM huge needs 65536 MiB of guest RAM \(\+64 MiB for QEMU, \+256 MiB the host keeps\), and this host has \d+ MiB available/);
    expect(JSON.parse((await local(['vm', 'show', 'huge', '--json'])).stdout)).toMatchObject({ state: 'created', runtime: null });
    expect((await local(['vm', 'rm', 'huge'])).code).toBe(0);
  });
});

describe('TCP answers', () => {
  it('carry the security headers', async () => {
    for (const url of ['/v1/health', '/v1/vms', '/']) {
      const r = await httpCall(d.url, 'GET', url);
      expect(r.headers['x-frame-options'], url).toBe('DENY');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(String(r.headers['content-security-policy'])).toMatch(/frame-ancestors 'none'/);
    }
  });

  it('wrong tokens: 10 answer 401, then 429 AUTH_RATE_LIMITED with Retry-After (last: it blocks this address for a while)', async () => {
    const wrong = `pvt_${'B'.repeat(43)}`;
    for (let i = 0; i < 10; i++) expect((await httpCall(d.url, 'GET', '/v1/vms', { token: wrong })).status).toBe(401);
    const r = await httpCall(d.url, 'GET', '/v1/vms', { token: wrong });
    expect(r.status).toBe(429);
    expect((r.json as { code: string }).code).toBe('AUTH_RATE_LIMITED');
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('a state directory left with loose modes', () => {
  it('is made private again when the daemon starts', async () => {
    await d.stop();
    chmodSync(stateDir, 0o755);
    chmodSync(path.join(stateDir, 'vms'), 0o755);
    chmodSync(path.join(stateDir, 'polyvisor.db'), 0o644);
    chmodSync(path.join(stateDir, 'secrets.key'), 0o644);
    d = await startDaemon({ stateDir });
    assertPrivate(stateDir);
    expect((await local(['secret', 'list', '--json'])).stdout).toContain('db-pass');
  });
});
