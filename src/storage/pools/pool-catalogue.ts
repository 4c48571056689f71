/**
 * The list of pools, persisted as `<stateDir>/pools.json` (written to a temp
 * name, fsynced, renamed). A JSON file rather than a store table: pools are
 * facts about this host's disks, the list is tiny, and storage/ stays free
 * of store/ (docs/storage.md). The default pool is always present.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { fail, validateAbsolutePath, validateName, writeFileAtomic } from '../../shared/index.js';
import { POOL_KINDS, type PoolConfig } from './types.js';

export const DEFAULT_POOL = 'default';

const fileSchema = z.object({
  version: z.literal(1),
  pools: z.array(z.object({ name: z.string(), kind: z.enum(POOL_KINDS), path: z.string() })),
});

export class PoolCatalogue {
  constructor(
    private readonly file: string,
    private readonly defaultPath: string,
  ) {}

  static in(stateDir: string): PoolCatalogue {
    return new PoolCatalogue(path.join(stateDir, 'pools.json'), path.join(stateDir, 'pools', DEFAULT_POOL));
  }

  async list(): Promise<PoolConfig[]> {
    const stored = await this.read();
    const def: PoolConfig = { name: DEFAULT_POOL, kind: 'dir', path: this.defaultPath };
    return [def, ...stored.filter((p) => p.name !== DEFAULT_POOL)].sort((a, b) => a.name.localeCompare(b.name));
  }

  async add(p: PoolConfig): Promise<PoolConfig> {
    validateName(p.name, 'pool name');
    const dir = validateAbsolutePath(p.path, 'pool path');
    const all = await this.list();
    if (all.some((x) => x.name === p.name)) fail('POOL_EXISTS', `a pool named ${p.name} already exists`);
    const clash = all.find((x) => inside(dir, x.path) || inside(x.path, dir));
    if (clash) fail('INVALID_PATH', `pool path ${dir} overlaps pool ${clash.name} (${clash.path})`);
    const added: PoolConfig = { name: p.name, kind: p.kind, path: dir };
    await this.write([...(await this.read()), added]);
    return added;
  }

  async remove(name: string): Promise<void> {
    const stored = await this.read();
    await this.write(stored.filter((p) => p.name !== name));
  }

  private async read(): Promise<PoolConfig[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return fileSchema.parse(JSON.parse(text)).pools;
  }

  private write(pools: PoolConfig[]): Promise<void> {
    return writeFileAtomic(this.file, JSON.stringify({ version: 1, pools }, null, 2) + '\n', 0o640);
  }
}

function inside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
