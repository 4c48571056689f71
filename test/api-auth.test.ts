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

beforeAll(async () => {
  d = await startDaemon({ env: { POLYVISOR_API_RATE_LIMIT: '1000' } });
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
