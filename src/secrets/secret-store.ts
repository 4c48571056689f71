/**
 * The secrets store: named values sealed with AES-256-GCM (cipher.ts) under
 * the key in `secrets.key` (key-ring.ts), kept in `secrets.json` (mode 0600)
 * in the state directory, every change written to a temp file, fsynced and
 * renamed (so a crash leaves the old file or the new one, never half).
 * Values are returned only by `reveal`, for the daemon's own use; the API
 * sees names and times. Nothing here logs a value.
 */
import { chmod, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fail, PolyvisorError, silentLogger, validateName, writeFileAtomic, type Logger } from '../shared/index.js';
import { open, seal, type Sealed } from './cipher.js';
import { loadKeyRing, newKeyId, saveKeyRing, type KeyRing } from './key-ring.js';
import { randomBytes } from 'node:crypto';

export const SECRETS_KEY_FILE = 'secrets.key';
export const SECRETS_FILE = 'secrets.json';
/** Largest value, in bytes of UTF-8. */
export const SECRET_MAX_BYTES = 64 * 1024;

export interface SecretInfo {
  name: string;
  createdAt: string;
  updatedAt: string;
}

interface Entry extends Sealed {
  createdAt: string;
  updatedAt: string;
}

interface SecretsFile {
  version: 1;
  secrets: Record<string, Entry>;
}

export interface SecretStoreOptions {
  stateDir: string;
  logger?: Logger;
}

export class SecretStore {
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly keyFile: string,
    private readonly file: string,
    private ring: KeyRing,
    private entries: Map<string, Entry>,
    private readonly logger: Logger,
  ) {}

  /** Opens (creating the key file on first start) and finishes a key rotation a crash interrupted. */
  static async open(o: SecretStoreOptions): Promise<SecretStore> {
    const logger = o.logger ?? silentLogger;
    const keyFile = path.join(o.stateDir, SECRETS_KEY_FILE);
    const file = path.join(o.stateDir, SECRETS_FILE);
    const { ring, created } = await loadKeyRing(keyFile);
    if (created) logger.info({ file: keyFile }, 'secrets key created');
    const entries = await readEntries(file);
    const s = new SecretStore(keyFile, file, ring, entries, logger);
    await s.settleKeys();
    return s;
  }

  /** Names and times, sorted by name; never values. */
  async list(): Promise<SecretInfo[]> {
    return [...this.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, e]) => info(name, e));
  }

  /** Stores `value` under `name` (replacing any value); `created` says whether the name was new. */
  async set(name: string, value: string): Promise<SecretInfo & { created: boolean }> {
    validateName(name, 'secret name');
    if (typeof value !== 'string') fail('INVALID_ARGUMENT', 'a secret value must be a string');
    if (Buffer.byteLength(value, 'utf8') > SECRET_MAX_BYTES) fail('INVALID_ARGUMENT', `a secret value is at most ${SECRET_MAX_BYTES} bytes`);
    return this.serial(async () => {
      const now = new Date().toISOString();
      const old = this.entries.get(name);
      const entry: Entry = { ...seal(name, value, this.ring.current, this.currentKey()), createdAt: old?.createdAt ?? now, updatedAt: now };
      const next = new Map(this.entries).set(name, entry);
      await this.write(next);
      this.logger.info({ secret: name }, old ? 'secret replaced' : 'secret stored');
      return { ...info(name, entry), created: old === undefined };
    });
  }

  /** The value, for the daemon's own use (QEMU secret objects, credentials); SECRET_NOT_FOUND if absent. */
  async reveal(name: string): Promise<string> {
    const e = this.entries.get(name);
    if (!e) fail('SECRET_NOT_FOUND', `no secret named ${name}`);
    return this.openEntry(name, e);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  async remove(name: string): Promise<void> {
    validateName(name, 'secret name');
    await this.serial(async () => {
      if (!this.entries.has(name)) fail('SECRET_NOT_FOUND', `no secret named ${name}`);
      const next = new Map(this.entries);
      next.delete(name);
      await this.write(next);
      this.logger.info({ secret: name }, 'secret removed');
    });
  }

  /**
   * Seals every value under a new key, all or nothing: the new key joins the
   * key file first, then one atomic rename swaps every value at once, then the
   * old key is dropped. A crash between the steps is finished by `open`.
   */
  async rotateKey(): Promise<{ key: string; secrets: number }> {
    return this.serial(async () => {
      const plain = new Map([...this.entries].map(([name, e]) => [name, { e, value: this.openEntry(name, e) }] as const));
      const id = newKeyId();
      const key = randomBytes(32);
      const staged: KeyRing = { current: this.ring.current, keys: new Map(this.ring.keys).set(id, key) };
      await saveKeyRing(this.keyFile, staged);
      this.ring = staged;
      const next = new Map<string, Entry>();
      for (const [name, { e, value }] of plain) next.set(name, { ...seal(name, value, id, key), createdAt: e.createdAt, updatedAt: e.updatedAt });
      await this.write(next);
      const done: KeyRing = { current: id, keys: new Map([[id, key]]) };
      await saveKeyRing(this.keyFile, done);
      this.ring = done;
      this.logger.info({ key: id, secrets: next.size }, 'secrets key rotated');
      return { key: id, secrets: next.size };
    });
  }

  /** Makes the key file match the values after an interrupted rotation, and drops keys no value uses. */
  private async settleKeys(): Promise<void> {
    const used = new Set([...this.entries.values()].map((e) => e.key));
    for (const id of used) {
      if (!this.ring.keys.has(id)) throw new PolyvisorError('SECRETS_UNREADABLE', `${this.file} holds values sealed with key ${id}, which ${this.keyFile} does not have`);
    }
    let current = this.ring.current;
    if (used.size === 1 && !used.has(current)) current = [...used][0]!;
    const keys = new Map([...this.ring.keys].filter(([id]) => id === current || used.has(id)));
    if (current === this.ring.current && keys.size === this.ring.keys.size) return;
    this.ring = { current, keys };
    await saveKeyRing(this.keyFile, this.ring);
    this.logger.info({ key: current }, 'secrets key file settled after an interrupted rotation');
  }

  private currentKey(): Buffer {
    return this.ring.keys.get(this.ring.current)!;
  }

  private openEntry(name: string, e: Entry): string {
    const key = this.ring.keys.get(e.key);
    try {
      if (!key) throw new Error(`key ${e.key} is missing`);
      return open(name, e, key);
    } catch (err) {
      throw new PolyvisorError('SECRETS_UNREADABLE', `secret ${name} does not decrypt with the key in ${this.keyFile}`, { cause: err });
    }
  }

  private async write(next: Map<string, Entry>): Promise<void> {
    const doc: SecretsFile = { version: 1, secrets: Object.fromEntries(next) };
    await writeFileAtomic(this.file, JSON.stringify(doc, null, 1) + '\n', 0o600);
    this.entries = next;
  }

  /** One change at a time, in call order. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

const info = (name: string, e: Entry): SecretInfo => ({ name, createdAt: e.createdAt, updatedAt: e.updatedAt });

async function readEntries(file: string): Promise<Map<string, Entry>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new PolyvisorError('SECRETS_UNREADABLE', `the secrets file ${file} cannot be read`, { cause: err });
  }
  if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  try {
    const doc = JSON.parse(text) as SecretsFile;
    if (doc.version !== 1 || typeof doc.secrets !== 'object' || doc.secrets === null) throw new Error('bad shape');
    return new Map(Object.entries(doc.secrets));
  } catch (err) {
    throw new PolyvisorError('SECRETS_UNREADABLE', `the secrets file ${file} is damaged`, { cause: new Error(err instanceof SyntaxError ? 'not JSON' : (err as Error).message) });
  }
}
