/**
 * Jobs as Hyper-V runs them: a method that takes time answers 4096 with a
 * reference to an Msvm_ConcreteJob, which goes Running (PercentComplete
 * rising step by step) to Completed (7), or to Exception (10) with an
 * ErrorCode and ErrorDescription. A planned failure stops a job at a given
 * percentage with nothing of its effect done.
 */
import { JOB_STATE } from './schema.js';
import { FakeError, type FakeJob, type World } from './state.js';

export interface JobFailure {
  /** The method whose next job fails (e.g. "MigrateVirtualSystemToHost"). */
  method: string;
  /** Where it stops (default 50). */
  atPercent?: number;
  message: string;
}

export interface JobPlan {
  method: string;
  host: string;
  type: number;
  description: string;
  steps: number;
  /** Called at each step with the percentage reached (e.g. to copy part of a file). */
  onStep?: (percent: number) => Promise<void>;
  effect: () => Promise<void>;
}

export class JobRunner {
  private readonly failures: JobFailure[] = [];

  constructor(private readonly w: World, private readonly stepMs: () => number) {}

  failNext(f: JobFailure): void {
    this.failures.push(f);
  }

  start(p: JobPlan): FakeJob {
    const job = this.w.newJob(p.host, p.type, p.description);
    const fi = this.failures.findIndex((f) => f.method === p.method);
    const failure = fi >= 0 ? this.failures.splice(fi, 1)[0] : undefined;
    void this.run(job, p, failure);
    return job;
  }

  private async run(job: FakeJob, p: JobPlan, failure: JobFailure | undefined): Promise<void> {
    try {
      for (let i = 1; i <= p.steps; i++) {
        await new Promise((r) => setTimeout(r, this.stepMs()));
        const pct = Math.floor((100 * i) / (p.steps + 1));
        if (failure && pct >= (failure.atPercent ?? 50)) throw new FakeError(32768, failure.message);
        await p.onStep?.(pct);
        job.percent = pct;
      }
      await p.effect();
      job.percent = 100;
      job.state = JOB_STATE.Completed;
    } catch (err) {
      job.state = JOB_STATE.Exception;
      job.errorCode = err instanceof FakeError ? err.returnValue : 32768;
      job.errorDescription = (err as Error).message;
    }
  }
}
