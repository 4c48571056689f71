/**
 * Carries out the HA restarts the manager decided for this host: for each
 * intent `ha/restart/VM` naming this host, the VM is taken over (a
 * compare-and-set on its record's generation, in lifecycle) and started; the
 * intent is then removed and the restart noted in the VM's HA history (its
 * restart limit). A stale intent (the record changed since the decision) is
 * dropped. Runs on every host, leader or not. Between passes it watches the
 * intents' prefix from the revision it read, so a new intent is carried out at
 * once and an idle host costs etcd one open watch, not a read every second
 * (a thousand hosts polling was a thousand reads a second: bench/cluster-scale.ts);
 * a pass also runs every `tickMs` (default 5 s) whatever the watch says.
 */
import { isPolyvisorError, sleep, type Logger } from '../shared/index.js';
import type { ClusterKv, KvWatch } from '../store/index.js';
import type { HaIntent } from './ha-manager.js';
import { clusterKeys } from './keys.js';

export interface HaExecutorOptions {
  kv: ClusterKv;
  host: string;
  /** lifecycle's VmService.takeOverAndStart. */
  takeOverAndStart(name: string, from: string, generation: number): Promise<unknown>;
  log: Logger;
  prefix?: string;
  /** The longest wait between two passes when the watch shows nothing (default 5 s). */
  tickMs?: number;
  now?: () => number;
}

const HOUR_MS = 3_600_000;

export class HaExecutor {
  private readonly keys: ReturnType<typeof clusterKeys>;
  /** The store revision the last pass read the intents at. */
  private revision: number | undefined;

  constructor(private readonly o: HaExecutorOptions) {
    this.keys = clusterKeys(o.prefix);
  }

  /** One pass: carries out every intent for this host; returns the VMs started. */
  async tick(signal?: AbortSignal): Promise<string[]> {
    const { kvs, revision } = await this.o.kv.range(this.keys.haRestarts, { prefix: true, ...(signal ? { signal } : {}) });
    this.revision = revision;
    const started: string[] = [];
    for (const kv of kvs) {
      const intent = JSON.parse(kv.value) as HaIntent;
      if (intent.to !== this.o.host) continue;
      try {
        await this.o.takeOverAndStart(intent.vm, intent.from, intent.generation);
        started.push(intent.vm);
        await this.noteRestart(intent.vm);
        this.o.log.warn({ vm: intent.vm, from: intent.from }, 'HA: VM restarted here');
      } catch (err) {
        if (isPolyvisorError(err, 'STORE_UNAVAILABLE')) throw err; // try again next tick
        const stale = isPolyvisorError(err, 'VM_BUSY') || isPolyvisorError(err, 'VM_NOT_FOUND');
        this.o.log.error({ err, vm: intent.vm }, stale ? 'HA: restart intent is stale (the VM changed since); dropped' : 'HA: restart failed; the VM stays stopped here');
      }
      // Only the intent we read: a newer decision for the same VM stays.
      await this.o.kv.txn([{ key: kv.key, target: 'mod', op: '=', value: kv.modRevision }], [{ delete: kv.key }]);
    }
    return started;
  }

  private async noteRestart(vm: string): Promise<void> {
    const now = (this.o.now ?? Date.now)();
    const key = this.keys.haHistory(vm);
    const cur = await this.o.kv.get(key);
    const times = cur ? (JSON.parse(cur.value) as number[]).filter((t) => t > now - HOUR_MS) : [];
    await this.o.kv.put(key, JSON.stringify([...times, now]));
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let ok = true;
      try {
        await this.tick(signal);
      } catch (err) {
        ok = false;
        if (!signal.aborted) this.o.log.warn({ err }, 'HA executor: pass failed; retrying');
      }
      if (ok && this.revision !== undefined) await this.nextIntent(this.revision, signal);
      else await sleep(1_000, signal).catch(() => undefined);
    }
  }

  /** Resolves at the first intent written after `revision`, when the watch ends, or after tickMs, whichever comes first. */
  private nextIntent(revision: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      let w: KvWatch | undefined;
      const finish = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', finish);
        w?.close();
        resolve();
      };
      const timer = setTimeout(finish, this.o.tickMs ?? 5_000);
      signal.addEventListener('abort', finish, { once: true });
      try {
        w = this.o.kv.watch(this.keys.haRestarts, { prefix: true, fromRevision: revision }, (e) => {
          if (e.type === 'put') finish();
        });
        // A watch that fails (etcd restarting) falls back to a pass a little later.
        void w.done.then(() => setTimeout(finish, 500));
      } catch (err) {
        this.o.log.warn({ err }, 'HA executor: cannot watch restart intents; passes every tickMs');
      }
    });
  }
}
