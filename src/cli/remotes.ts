/**
 * Remotes: named daemons the CLI can talk to, like Incus's. Stored in
 * $POLYVISOR_CONFIG_DIR/remotes.json (default ~/.config/polyvisor), mode
 * 0600 because it holds tokens. "local" always means this host's unix socket.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fail, isLoopbackHost, validateName, writeFileAtomic } from '../shared/index.js';

export interface Remote {
  url: string;
  token?: string;
  /** SHA-256 of the daemon's TLS certificate (https:// remotes), pinned by `remote add`. */
  fingerprint?: string;
}

export interface RemotesFile {
  /** Remote used when no --remote/--url/--socket is given; "local" or absent means the unix socket. */
  default?: string;
  remotes: Record<string, Remote>;
}

export const LOCAL_REMOTE = 'local';

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['POLYVISOR_CONFIG_DIR'] ?? path.join(env['XDG_CONFIG_HOME'] ?? path.join(os.homedir(), '.config'), 'polyvisor');
}

const fileIn = (dir: string): string => path.join(dir, 'remotes.json');

export function readRemotes(env: NodeJS.ProcessEnv = process.env): RemotesFile {
  let text: string;
  try {
    text = readFileSync(fileIn(configDir(env)), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { remotes: {} };
    throw err;
  }
  try {
    const doc = JSON.parse(text) as RemotesFile;
    if (typeof doc !== 'object' || doc === null || typeof doc.remotes !== 'object') throw new Error('no "remotes" object');
    return doc;
  } catch (err) {
    fail('CONFIG_INVALID', `${fileIn(configDir(env))} is not a valid remotes file: ${(err as Error).message}`, { cause: err });
  }
}

export async function writeRemotes(doc: RemotesFile, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const dir = configDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(fileIn(dir), JSON.stringify(doc, null, 2) + '\n', 0o600);
}

export function checkRemoteUrl(url: string, o: { insecureHttp?: boolean } = {}): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    fail('INVALID_ARGUMENT', `remote URL ${JSON.stringify(url)} is not a URL; use http://HOST:PORT or https://HOST:PORT`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') fail('INVALID_ARGUMENT', `remote URL ${url} must use http:// or https://`);
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname) && !o.insecureHttp) {
    fail('INVALID_ARGUMENT', `remote URL ${url} is plain HTTP to another machine: the API token would cross the network in clear`, {
      hint: 'use https://HOST:PORT (a daemon listening beyond loopback serves HTTPS by default), or say --insecure-http to accept plain HTTP',
    });
  }
  return u.toString().replace(/\/$/, '');
}

export function getRemote(doc: RemotesFile, name: string): Remote {
  validateName(name, 'remote name');
  const r = doc.remotes[name];
  if (!r) fail('REMOTE_NOT_FOUND', `no remote named ${name}`);
  return r;
}


/** The client endpoint of a remote: its URL and, for https://, the pinned certificate fingerprint. */
export function remoteEndpoint(r: Remote): { url: string; fingerprint?: string } {
  return r.fingerprint ? { url: r.url, fingerprint: r.fingerprint } : { url: r.url };
}
