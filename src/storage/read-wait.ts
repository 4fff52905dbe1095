import { AppError } from '../shared/errors.js';

/** How long an API read waits by default for acknowledged rows to reach ClickHouse. */
export const DEFAULT_MAX_READ_WAIT_MS = 10_000;

interface Waiter<Target> {
  target: Target;
  resolve: () => void;
}

/**
 * The reads waiting for acknowledged rows to be inserted (read-your-writes), for a writer
 * whose inserts reach some `Target` (a commit number, or one per table). A read waits at
 * most `maxWaitMs`: it must not hang while ClickHouse refuses inserts (acknowledged rows are
 * kept and retried meanwhile). Past it, it rejects with a retryable STORAGE_UNAVAILABLE (503
 * + Retry-After) and leaves the list.
 */
export class InsertBarriers<Target> {
  private waiting: Waiter<Target>[] = [];

  constructor(
    private readonly maxWaitMs: number,
    /** What the rows are, in the error message ("rows", "samples"). */
    private readonly what: string,
  ) {}

  get size(): number {
    return this.waiting.length;
  }

  /** Whether a waiting read wants a target `wanted` holds. */
  some(wanted: (target: Target) => boolean): boolean {
    return this.waiting.some((w) => wanted(w.target));
  }

  /** Resolves once `release` finds `target` reached; `kick` then starts the inserts it waits for. */
  wait(target: Target, kick: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter<Target> = {
        target,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((w) => w !== waiter);
        reject(
          new AppError(
            'STORAGE_UNAVAILABLE',
            `${this.what} acknowledged earlier are not in ClickHouse after ${this.maxWaitMs} ms (its inserts fail or lag; they are kept and retried); retry the read`,
            { retryable: true },
          ),
        );
      }, this.maxWaitMs);
      // A read cut short by shutdown needs no answer: the timer must not hold the process.
      timer.unref();
      this.waiting.push(waiter);
      kick();
    });
  }

  /** Resolves the reads whose target is `reached`; returns how many. */
  release(reached: (target: Target) => boolean): number {
    const done = this.waiting.filter((w) => reached(w.target));
    if (done.length === 0) return 0;
    this.waiting = this.waiting.filter((w) => !reached(w.target));
    for (const w of done) w.resolve();
    return done.length;
  }
}
