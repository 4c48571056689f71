/**
 * Tokens, roles and the audit log against a real daemon over TCP: the token
 * lifecycle through the CLI and remotes, every registered route (from the
 * daemon's own OpenAPI document) with every role, and no token in any log line.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { httpCall, runCli } from './helpers/http.js';

let d: TestDaemon;
const configDir = path.join(tempStateDir('cfg'), 'polyvisor');
const secrets: string[] = [];
const tokens: Record<string, string> = {};

// The daemon's config limits one token (role quotas, docs/security.md); the operator role keeps its defaults.
const quotaConfig = path.join(tempStateDir('quota-cfg'), 'config.yaml');

beforeAll(async () => {
  mkdirSync(path.dirname(quotaConfig), { recursive: true });
  writeFileSync(quotaConfig, 'quotas:\n  tokens:\n    t-quota: { vms: 1, vcpus: 2, memory: 256Mi }\n');
  d = await startDaemon({ env: { POLYVISOR_API_RATE_LIMIT: '1000', POLYVISOR_CONFIG: quotaConfig } });
});
afterAll(async () => {
  await d?.stop();
});

const local = (args: string[]) => runCli(['--socket', d.socket, ...args], { POLYVISOR_CONFIG_DIR: configDir });
const remote = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, { POLYVISOR_CONFIG_DIR: configDir, ...extra });

describe('tokens', () => {
  it('are created on the trusted socket and shown once; the list never has the secret', async () => {
    for (const role of ['admin', 'operator', 'viewer', 'peer']) {
      const c = await local(['token', 'create', `t-${role}`, '--role', role]);
      expect(c.code, c.stderr).toBe(0);
      expect(c.stdout).toMatch(/^pvt_[A-Za-z0-9_-]{43}\n$/);
      expect(c.stderr).toMatch(/not shown again/);
      tokens[role] = c.stdout.trim();
      secrets.push(tokens[role]!);
    }
    const list = await local(['token', 'list', '--json']);
    const parsed = JSON.parse(list.stdout) as Array<{ name: string; role: string; prefix: string }>;
    expect(parsed.map((t) => [t.name, t.role])).toEqual([['t-admin', 'admin'], ['t-operator', 'operator'], ['t-peer', 'peer'], ['t-viewer', 'viewer']]);
    for (const s of secrets) expect(list.stdout).not.toContain(s.slice(8));
    expect((await local(['token', 'create', 't-admin', '--role', 'viewer'])).code).toBe(4);
    expect((await local(['token', 'create', 'x', '--role', 'root'])).code).toBe(2);
  });

  it('work through a remote; a revoked token answers 401', async () => {
    const tokenFile = path.join(path.dirname(configDir), 'operator.token');
    mkdirSync(path.dirname(tokenFile), { recursive: true });
    writeFileSync(tokenFile, `${tokens['operator']!}\n`, { mode: 0o600 });
    const add = await remote(['remote', 'add', 'lab', d.url, '--token-file', tokenFile, '--default']);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stderr).not.toMatch(/warning/); // the token never was in argv
    expect(statSync(path.join(configDir, 'remotes.json')).mode & 0o777).toBe(0o600);
    expect((await remote(['remote', 'list'])).stdout).toMatch(/lab\s+http:\/\/127\.0\.0\.1:\d+\s+yes\s+\*/);
    expect((await remote(['vm', 'list', '--json'])).stdout.trim()).toBe('[]');
    const weak = await remote(['token', 'list']);
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/role operator .* may not do this/);
    const c = await local(['token', 'create', 'short', '--role', 'viewer']);
    const short = c.stdout.trim();
    secrets.push(short);
    expect((await remote(['--remote', 'lab', 'vm', 'list'], { POLYVISOR_TOKEN: short })).code).toBe(0);
    expect((await local(['token', 'revoke', 'short'])).stdout).toBe('short: revoked\n');
    const after = await remote(['vm', 'list'], { POLYVISOR_TOKEN: short });
    expect(after.code).toBe(2);
    expect(after.stderr).toMatch(/not valid/);
    expect((await remote(['--remote', 'nowhere', 'vm', 'list'])).code).toBe(3);
    expect((await remote(['remote', 'default', 'local'])).code).toBe(0);
  });

  it('every route of the daemon x every role: 401, 403, or allowed', async () => {
    const doc = (await httpCall(d.url, 'GET', '/v1/openapi.json')).json as {
      paths: Record<string, Record<string, { 'x-permission': string; 'x-roles': string[] }>>;
    };
    let n = 0;
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const url = p.replace(/\{([^}]+)\}/g, (_m, k: string) => (k === 'action' ? 'start' : `nope-${k}`));
        const body = ['post', 'put', 'patch'].includes(method) ? {} : undefined;
        const M = method.toUpperCase();
        const anon = await httpCall(d.url, M, url, { body });
        if (op['x-permission'] === 'public') expect(anon.status).not.toBe(401);
        else expect(anon.status, `${M} ${p}`).toBe(401);
        for (const role of ['admin', 'operator', 'viewer', 'peer']) {
          const res = await httpCall(d.url, M, url, { body, token: tokens[role]! });
          if (op['x-roles'].includes(role) || op['x-permission'] === 'public') expect([401, 403], `${M} ${p} as ${role}: ${JSON.stringify(res.json)}`).not.toContain(res.status);
          else expect(res.status, `${M} ${p} as ${role}`).toBe(403);
        }
        n++;
      }
    }
    expect(n).toBeGreaterThan(15);
    // The secrets store's routes are in the walk, admin only.
    expect(doc.paths['/v1/secrets/{name}']?.['put']?.['x-roles']).toEqual(['admin']);
    expect(doc.paths['/v1/secrets/rotate-key']?.['post']?.['x-roles']).toEqual(['admin']);
  });

  it('the audit log names who did what; refusals are in it too', async () => {
    const a = await local(['audit', '--json', '-n', '1000']);
    const entries = JSON.parse(a.stdout) as Array<{ actor: string; action: string; resource: string | null; outcome: string; status: number }>;
    expect(entries).toContainEqual(expect.objectContaining({ actor: 'local', action: 'DELETE /v1/tokens/:name', resource: 'short', outcome: 'ok', status: 204 }));
    expect(entries).toContainEqual(expect.objectContaining({ actor: 't-operator', action: 'GET /v1/tokens', outcome: 'denied', status: 403 }));
    expect(entries).toContainEqual(expect.objectContaining({ actor: 'anonymous', outcome: 'denied', status: 401 }));
    expect((await httpCall(d.url, 'GET', '/v1/audit', { token: tokens['operator']! })).status).toBe(403);
  });

  it('no token appears in any log line', () => {
    const log = d.log();
    expect(log.length).toBeGreaterThan(1000);
    expect(log).toMatch(/"url":"\/v1\/vms"/); // request logging is on (debug)
    for (const s of secrets) {
      expect(log).not.toContain(s);
      expect(log).not.toContain(s.slice(4));
    }
    expect(log).not.toMatch(/Bearer/i);
  });
});

describe('role quotas and port forwards on a real daemon (audit defects 10 and 9)', () => {
  const spec = (name: string, extra: Record<string, unknown> = {}) => ({ name, memory: '128Mi', disks: [{ name: 'root', size: '16Mi' }], ...extra });

  it('a token past its quota is refused with the limit, the use and the request; nothing is made', async () => {
    const c = await local(['token', 'create', 't-quota', '--role', 'operator']);
    expect(c.code, c.stderr).toBe(0);
    const token = c.stdout.trim();
    secrets.push(token);
    const first = await httpCall(d.url, 'POST', '/v1/vms', { token, body: { spec: spec('quota-1') } });
    expect(first.status, JSON.stringify(first.json)).toBe(201);
    const second = await httpCall(d.url, 'POST', '/v1/vms', { token, body: { spec: spec('quota-2', { memory: '64Mi' }) } });
    expect(second.status).toBe(403);
    expect(second.json).toMatchObject({ code: 'QUOTA_EXCEEDED', message: 'token t-quota may own 1 VM in all; its other VMs use 1 VM and VM quota-2 asks 1 VM (2 VMs together)', details: { scope: 'token t-quota', limit: 'vms', max: 1, used: 1, requested: 1 } });
    expect((await httpCall(d.url, 'GET', '/v1/vms/quota-2', { token })).status).toBe(404);
    // an edit that grows the VM past the token's memory: refused, the VM as it was
    const grow = await httpCall(d.url, 'PUT', '/v1/vms/quota-1', { token, body: { spec: spec('quota-1', { memory: '512Mi' }) } });
    expect(grow.json).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { limit: 'memoryBytes', max: 256 * 1024 ** 2, used: 0, requested: 512 * 1024 ** 2 } });
    expect((await httpCall(d.url, 'GET', '/v1/vms/quota-1', { token })).json).toMatchObject({ spec: { memory: 128 * 1024 ** 2 } });
    // the unix socket is the admin "local": no limit, and the clone is local's, not the token's
    const cli = await local(['vm', 'clone', 'quota-1', 'quota-copy']);
    expect(cli.code, cli.stderr).toBe(0);
  });

  it('an operator forwards only loopback addresses and unprivileged ports', async () => {
    const fwd = (hostAddress: string, hostPort: number) => ({ networks: [{ portForwards: [{ hostAddress, hostPort, guestPort: 22 }] }] });
    const bad = await httpCall(d.url, 'POST', '/v1/vms', { token: tokens['operator']!, body: { spec: spec('fwd-1', fwd('0.0.0.0', 22)) } });
    expect(bad.status).toBe(403);
    expect(bad.json).toMatchObject({ code: 'PORT_FORWARD_NOT_ALLOWED', details: [{ field: 'networks.0.portForwards.0.hostAddress' }, { field: 'networks.0.portForwards.0.hostPort' }] });
    const ok = await httpCall(d.url, 'POST', '/v1/vms', { token: tokens['operator']!, body: { spec: spec('fwd-1', fwd('127.0.0.1', 20022)) } });
    expect(ok.status, JSON.stringify(ok.json)).toBe(201);
    for (const vm of ['quota-1', 'quota-copy', 'fwd-1']) expect((await local(['vm', 'rm', vm])).code).toBe(0);
  });
});
