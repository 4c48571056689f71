/**
 * Long operations (start, stop, later snapshot, backup, migrate): each runs
 * with its own AbortController, reports progress, and is kept for a while
 * after it finishes so clients can list it, wait on it or read its outcome.
 */
import { EventEmitter } from 'node:events';
import { PolyvisorError, anySignal, fail, newId, sleep, withLogContext } from '../shared/index.js';
import type { OperationView } from '../spec/index.js';

export interface OperationContext {
  signal: AbortSignal;
  /** Reports progress from 0 to 1. */
  progress(fraction: number): void;
  /** Replaces the operation's detail (what the fraction cannot say, e.g. a migration's bytes, pass and dirty rate). */
  detail?(d: Record<string, unknown>): void;
}

interface Entry {
  view: OperationView;
  controller: AbortController;
  done: Promise<void>;
  /** The error the work threw, kept so a synchronous caller can rethrow it as it was. */
  error?: unknown;
}

export interface OperationRegistryOptions {
  /** Finished operations kept at most (oldest dropped first; default 500). */
  keep?: number;
  /** Finished operations forgotten after this many ms (default 1 h). */
  ttlMs?: number;
}

export class OperationRegistry extends EventEmitter<{ operation: [OperationView] }> {
  private readonly ops = new Map<string, Entry>();

  constructor(private readonly o: OperationRegistryOptions = {}) {
    super();
    this.setMaxListeners(0);
  }

  /** Starts `work` at once and returns its operation (status running). */
  start<T>(kind: string, vm: string | null, actor: string, work: (ctx: OperationContext) => Promise<T>): OperationView {
    this.prune();
    const now = new Date().toISOString();
    const view: OperationView = {
      id: newId('op'), kind, vm, status: 'running', progress: 0, actor, createdAt: now, updatedAt: now, finishedAt: null, error: null,
    };
    const controller = new AbortController();
    const entry: Entry = { view, controller, done: Promise.resolve() };
    this.ops.set(view.id, entry);
    const ctx: OperationContext = {
      signal: controller.signal,
      progress: (f) => {
        if (entry.view.status !== 'running') return;
        const p = Math.min(Math.max(f, 0), 0.99);
        if (p <= entry.view.progress) return;
        this.update(entry, { progress: Math.round(p * 1000) / 1000 });
      },
      detail: (d) => {
        if (entry.view.status === 'running') this.update(entry, { detail: d });
      },
    };
    this.emit('operation', { ...view });
    entry.done = withLogContext({ operationId: view.id }, async () => {
      try {
        const result = await work(ctx);
        this.finish(entry, { status: 'succeeded', progress: 1, ...(result === undefined ? {} : { result }) });
      } catch (err) {
        entry.error = err;
        const cancelled = controller.signal.aborted;
        const pe = err instanceof PolyvisorError ? err : new PolyvisorError('INTERNAL', 'internal error', { cause: err });
        const { code, message, hint } = pe.toJSON();
        this.finish(entry, { status: cancelled ? 'cancelled' : 'failed', error: { code, message, hint } });
      }
    });
    return { ...view };
  }

  /** Runs `work` as an operation and waits for it: the result, or the error it threw. */
  async run<T>(kind: string, vm: string | null, actor: string, work: (ctx: OperationContext) => Promise<T>): Promise<T> {
    const op = this.start(kind, vm, actor, work);
    const entry = this.ops.get(op.id)!;
    await entry.done;
    if (entry.view.status !== 'succeeded') throw entry.error;
    return entry.view.result as T;
  }

  get(id: string): OperationView {
    const e = this.ops.get(id);
    if (!e) fail('OPERATION_NOT_FOUND', `no operation ${id}`);
    return { ...e.view };
  }

  /** Newest first. */
  list(filter: { vm?: string; status?: string } = {}): OperationView[] {
    this.prune();
    return [...this.ops.values()]
      .map((e) => e.view)
      .filter((v) => (filter.vm === undefined || v.vm === filter.vm) && (filter.status === undefined || v.status === filter.status))
      .reverse()
      .map((v) => ({ ...v }));
  }

  /** Waits until the operation has finished or `timeoutMs` passed (or `signal` aborts); returns it as it is then. */
  async wait(id: string, timeoutMs: number, signal?: AbortSignal): Promise<OperationView> {
    const e = this.ops.get(id);
    if (!e) fail('OPERATION_NOT_FOUND', `no operation ${id}`);
    const stop = new AbortController();
    const waited = sleep(timeoutMs, signal ? anySignal([signal, stop.signal]) : stop.signal).catch(() => undefined);
    await Promise.race([e.done, waited]);
    stop.abort();
    return { ...e.view };
  }

  /** Asks a running operation to stop; a finished one is returned as it is. */
  cancel(id: string): OperationView {
    const e = this.ops.get(id);
    if (!e) fail('OPERATION_NOT_FOUND', `no operation ${id}`);
    if (e.view.status === 'running') e.controller.abort(new PolyvisorError('ABORTED', `${e.view.kind} of ${e.view.vm ?? 'the daemon'} was cancelled (operation ${id})`));
    return { ...e.view };
  }

  /** Cancels every running operation and waits for them (daemon shutdown). */
  async close(): Promise<void> {
    const running = [...this.ops.values()].filter((e) => e.view.status === 'running');
    for (const e of running) e.controller.abort();
    await Promise.all(running.map((e) => e.done));
  }

  private update(e: Entry, patch: Partial<OperationView>): void {
    e.view = { ...e.view, ...patch, updatedAt: new Date().toISOString() };
    this.emit('operation', { ...e.view });
  }

  private finish(e: Entry, patch: Partial<OperationView>): void {
    const now = new Date().toISOString();
    this.update(e, { ...patch, finishedAt: now });
  }

  private prune(): void {
    const ttl = this.o.ttlMs ?? 3_600_000;
    const keep = this.o.keep ?? 500;
    const finished = [...this.ops.values()].filter((e) => e.view.finishedAt !== null);
    const cutoff = Date.now() - ttl;
    finished.forEach((e, i) => {
      if (i < finished.length - keep || Date.parse(e.view.finishedAt!) < cutoff) this.ops.delete(e.view.id);
    });
  }
}
