/**
 * The secrets key file (`secrets.key`, mode 0600): one current AES-256 key and,
 * only while a rotation is under way, the key it replaces. Written atomically.
 */
import { randomBytes } from 'node:crypto';
import { chmod, readFile, stat } from 'node:fs/promises';
import { PolyvisorError, writeFileAtomic } from '../shared/index.js';

export interface KeyRing {
  current: string;
  keys: Map<string, Buffer>;
}

interface KeyFile {
  version: 1;
  current: string;
  keys: Record<string, string>;
}

export const newKeyId = (): string => `k${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;

export function newKeyRing(): KeyRing {
  const id = newKeyId();
  return { current: id, keys: new Map([[id, randomBytes(32)]]) };
}

/** Reads the key file, creating it (mode 0600) if absent; tightens a looser mode. */
export async function loadKeyRing(file: string): Promise<{ ring: KeyRing; created: boolean }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(file, err);
    const ring = newKeyRing();
    await saveKeyRing(file, ring);
    return { ring, created: true };
  }
  if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  return { ring: parseKeyFile(file, text), created: false };
}

export async function saveKeyRing(file: string, ring: KeyRing): Promise<void> {
  const doc: KeyFile = { version: 1, current: ring.current, keys: Object.fromEntries([...ring.keys].map(([id, k]) => [id, k.toString('base64')])) };
  await writeFileAtomic(file, JSON.stringify(doc) + '\n', 0o600);
}

function parseKeyFile(file: string, text: string): KeyRing {
  try {
    const doc = JSON.parse(text) as KeyFile;
    if (doc.version !== 1 || typeof doc.current !== 'string' || typeof doc.keys !== 'object' || doc.keys === null) throw new Error('bad shape');
    const keys = new Map<string, Buffer>();
    for (const [id, b64] of Object.entries(doc.keys)) {
      const k = Buffer.from(String(b64), 'base64');
      if (k.length !== 32) throw new Error(`key ${id} is not 32 bytes`);
      keys.set(id, k);
    }
    if (!keys.has(doc.current)) throw new Error('the current key is missing');
    return { current: doc.current, keys };
  } catch (err) {
    // JSON.parse's message may quote the file's bytes: keep only our own words.
    throw unreadable(file, new Error(err instanceof SyntaxError ? 'not JSON' : (err as Error).message));
  }
}

const unreadable = (file: string, cause: unknown): PolyvisorError =>
  new PolyvisorError('SECRETS_UNREADABLE', `the secrets key file ${file} cannot be read`, { cause });
