/**
 * XAPI tasks in the fake: an Async.* call answers a task ref at once; the
 * task then advances one step every `stepMs` (progress 0 → 1), and on its
 * last step the operation runs: status "success" with the result as XAPI
 * encodes it ("<value>OpaqueRef:…</value>", or "" for void), or "failure"
 * with error_info. A planned failure (TaskFailure) stops it halfway with
 * nothing applied; task.cancel stops it ("cancelled", TASK_CANCELLED).
 */
import { XapiFault, type TaskFailure } from './faults.js';
import { NULL_REF, type PoolDb } from './state.js';

const stamp = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export class Tasks {
  readonly failures: TaskFailure[] = [];
  private readonly timers = new Map<string, NodeJS.Timeout>();

  /** `stepMs` may be changed between operations (a test wanting slower tasks). */
  constructor(private readonly db: PoolDb, public stepMs: number, readonly steps = 4) {}

  /** Starts `run` as a task of `method` on `host`; returns the task ref. */
  start(method: string, host: string, run: () => Promise<unknown>, onStep?: (progress: number) => void): string {
    const ref = this.db.add('task', {
      name_label: `Async.${method}`, status: 'pending', progress: 0, created: stamp(), finished: '19700101T00:00:00Z',
      resident_on: host || NULL_REF, allowed_operations: ['cancel'],
    });
    const planned = this.failures.findIndex((f) => f.method === method);
    const failure = planned >= 0 ? this.failures.splice(planned, 1)[0] : undefined;
    let step = 0;
    const tick = (): void => {
      const rec = this.db.get('task', ref);
      if (!rec || rec['status'] !== 'pending') return;
      step++;
      const progress = Math.min(1, step / this.steps);
      if (failure && progress >= failure.atProgress) return this.finish(ref, { error: failure.error });
      if (step < this.steps) {
        this.db.mod('task', ref, { progress });
        onStep?.(progress);
        this.timers.set(ref, setTimeout(tick, this.stepMs));
        return;
      }
      run().then(
        (v) => this.finish(ref, { result: typeof v === 'string' && v.startsWith('OpaqueRef:') ? `<value>${v}</value>` : '' }),
        (err: unknown) => this.finish(ref, { error: err instanceof XapiFault ? [err.code, ...err.params] : ['INTERNAL_ERROR', String(err)] }),
      );
    };
    this.timers.set(ref, setTimeout(tick, this.stepMs));
    return ref;
  }

  private finish(ref: string, r: { result?: string; error?: string[] }): void {
    this.timers.delete(ref);
    if (!this.db.get('task', ref)) return;
    this.db.mod('task', ref, r.error
      ? { status: 'failure', error_info: r.error, finished: stamp(), allowed_operations: [] }
      : { status: 'success', progress: 1, result: r.result ?? '', finished: stamp(), allowed_operations: [] });
  }

  cancel(ref: string): void {
    const rec = this.db.get('task', ref);
    if (!rec) throw new XapiFault('HANDLE_INVALID', ['task', ref]);
    if (rec['status'] !== 'pending') throw new XapiFault('OPERATION_NOT_ALLOWED', [`task ${ref} is ${String(rec['status'])}`]);
    clearTimeout(this.timers.get(ref));
    this.timers.delete(ref);
    this.db.mod('task', ref, { status: 'cancelled', error_info: ['TASK_CANCELLED', ref], finished: stamp(), allowed_operations: [] });
  }

  pending(): string[] {
    return [...this.db.table('task')].filter(([, r]) => r['status'] === 'pending').map(([ref]) => ref);
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
