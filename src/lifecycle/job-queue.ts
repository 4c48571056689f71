/**
 * One queue per key (DESIGN rule 7): jobs on one VM run one after another,
 * jobs on different VMs run in parallel.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly depth = new Map<string, number>();

  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(job, job);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    this.depth.set(key, (this.depth.get(key) ?? 0) + 1);
    void tail.then(() => {
      const d = (this.depth.get(key) ?? 1) - 1;
      if (d === 0) {
        this.depth.delete(key);
        if (this.tails.get(key) === tail) this.tails.delete(key);
      } else this.depth.set(key, d);
    });
    return next;
  }

  /** Jobs queued or running for `key`. */
  pending(key: string): number {
    return this.depth.get(key) ?? 0;
  }

  /** Resolves when every job queued so far has settled. */
  async idle(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }
}
