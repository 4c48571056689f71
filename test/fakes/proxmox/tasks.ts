/**
 * Worker tasks as pvedaemon forks them: every long call answers at once with
 * a UPID; the work runs in steps (each `stepMs` long), writing log lines, and
 * ends with exitstatus "OK" or the text it died with. A task can be stopped
 * (DELETE /nodes/{node}/tasks/{upid}) and made to fail by a fault hook.
 */

export interface TaskCtx {
  log(line: string): void;
  /** One step of work; throws when the task is stopped. */
  step(): Promise<void>;
}

export interface Task {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
  status: 'running' | 'stopped';
  exitstatus?: string;
  lines: string[];
  stop: () => void;
}

/** A planned failure: the next task of `type` dies with `message` after its first step. */
export interface TaskFailure {
  type: string;
  message: string;
}

const hex8 = (n: number): string => n.toString(16).toUpperCase().padStart(8, '0');

export class Tasks {
  private readonly tasks = new Map<string, Task>();
  private pid = 0x3a000;
  failures: TaskFailure[] = [];

  constructor(public stepMs: number) {}

  /** Starts `work` as a worker task and returns its UPID; `work` changes the model only at its end. */
  start(node: string, type: string, id: string, user: string, work: (ctx: TaskCtx) => Promise<void>): string {
    const pid = this.pid++;
    const starttime = Math.floor(Date.now() / 1000);
    const pstart = (pid * 7) % 100_000_000;
    const upid = `UPID:${node}:${hex8(pid)}:${hex8(pstart)}:${hex8(starttime)}:${type}:${id}:${user}:`;
    let stopped = false;
    let wake: (() => void) | null = null;
    const task: Task = {
      upid, node, pid, pstart, starttime, type, id, user, status: 'running', lines: [],
      stop: () => {
        stopped = true;
        wake?.();
      },
    };
    this.tasks.set(upid, task);
    const planned = this.failures.findIndex((f) => f.type === type);
    const failure = planned >= 0 ? this.failures.splice(planned, 1)[0] : undefined;
    let steps = 0;
    const ctx: TaskCtx = {
      log: (line) => task.lines.push(line),
      step: async () => {
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, this.stepMs);
        });
        wake = null;
        if (stopped) throw new Error('received interrupt');
        steps++;
        if (failure && steps === 1) throw new Error(failure.message);
      },
    };
    void (async () => {
      try {
        await ctx.step();
        await work(ctx);
        task.lines.push('TASK OK');
        task.exitstatus = 'OK';
      } catch (err) {
        const msg = (err as Error).message;
        task.lines.push(`TASK ERROR: ${msg}`);
        task.exitstatus = msg;
      }
      task.status = 'stopped';
    })();
    return upid;
  }

  get(node: string, upid: string): Task | undefined {
    const t = this.tasks.get(upid);
    return t && t.node === node ? t : undefined;
  }

  running(): Task[] {
    return [...this.tasks.values()].filter((t) => t.status === 'running');
  }
}
