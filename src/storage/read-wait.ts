import { AppError } from '../shared/errors.js';

/** How long an API read waits by default for acknowledged rows to reach ClickHouse. */
export const DEFAULT_MAX_READ_WAIT_MS = 10_000;

/**
 * Waits for `register` to call its `resolve` (the writer's "inserted" barrier), at most
 * `maxWaitMs`: a read must not hang while ClickHouse refuses inserts (acknowledged rows are
 * kept and retried meanwhile). Past it, rejects with a retryable STORAGE_UNAVAILABLE (503 +
 * Retry-After) and calls the `forget` that `register` returned, so the barrier does not pile up.
 */
export function waitForInsert(maxWaitMs: number, what: string, register: (resolve: () => void) => () => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let forget = () => {};
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      forget();
      reject(
        new AppError('STORAGE_UNAVAILABLE', `${what} acknowledged earlier are not in ClickHouse after ${maxWaitMs} ms (its inserts fail or lag; they are kept and retried); retry the read`, {
          retryable: true,
        }),
      );
    }, maxWaitMs);
    // A read cut short by shutdown needs no answer: the timer must not hold the process.
    timer.unref();
    forget = register(() => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve();
    });
  });
}
