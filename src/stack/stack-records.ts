/**
 * A stack's record in the store (the MetaStore every backend has, SQLite and
 * etcd alike): what its last apply wanted and the networks and volumes it
 * owns (they carry no labels; VMs carry theirs). Ownership is written before
 * an object is made, so a daemon killed in between leaves it owned, and the
 * next apply finds it instead of making a second one.
 */
import type { MetaStore } from '../store/index.js';
import type { DesiredStack } from './resolve.js';

export interface StackRecord {
  name: string;
  desired: DesiredStack;
  networks: string[];
  volumes: Array<{ pool: string; name: string }>;
  appliedAt: string;
}

const INDEX = 'stacks.index';
const key = (name: string): string => `stack.${name}`;

export class StackRecords {
  constructor(private readonly meta: MetaStore) {}

  async names(): Promise<string[]> {
    const raw = await this.meta.getMeta(INDEX);
    return raw ? (JSON.parse(raw) as string[]) : [];
  }

  async get(name: string): Promise<StackRecord | undefined> {
    const raw = await this.meta.getMeta(key(name));
    return raw ? (JSON.parse(raw) as StackRecord) : undefined;
  }

  async put(rec: StackRecord): Promise<void> {
    await this.meta.setMeta(key(rec.name), JSON.stringify(rec));
    const names = await this.names();
    if (!names.includes(rec.name)) await this.meta.setMeta(INDEX, JSON.stringify([...names, rec.name].sort()));
  }

  /** Forgets a destroyed stack (MetaStore has no delete: the record is emptied and leaves the index). */
  async remove(name: string): Promise<void> {
    await this.meta.setMeta(INDEX, JSON.stringify((await this.names()).filter((n) => n !== name)));
    await this.meta.setMeta(key(name), '');
  }
}
