import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InsertBarriers } from '../../src/storage/read-wait.js';
import { AppError } from '../../src/shared/errors.js';

describe('InsertBarriers', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('starts the inserts a read waits for, and releases only the reads whose target is reached', async () => {
    const barriers = new InsertBarriers<number>(10_000, 'samples');
    const kick = vi.fn();
    const early = barriers.wait(3, kick);
    const late = barriers.wait(7, kick);
    expect(kick).toHaveBeenCalledTimes(2);
    expect(barriers.size).toBe(2);
    expect(barriers.some((target) => target > 5)).toBe(true);

    expect(barriers.release((target) => target <= 5)).toBe(1);
    await expect(early).resolves.toBeUndefined();
    expect(barriers.size).toBe(1);
    expect(barriers.some((target) => target > 5)).toBe(true);

    expect(barriers.release((target) => target <= 7)).toBe(1);
    await expect(late).resolves.toBeUndefined();
    expect(barriers.size).toBe(0);
  });

  it('gives up on a read after maxWaitMs with a retryable 503, and leaves the list so inserts are no longer forced for it', async () => {
    const barriers = new InsertBarriers<number>(250, 'samples');
    const read = barriers.wait(1, () => undefined);
    const outcome = read.then(
      () => null,
      (error: unknown) => error,
    );
    await vi.advanceTimersByTimeAsync(249);
    expect(barriers.size).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    const error = await outcome;
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('STORAGE_UNAVAILABLE');
    expect((error as AppError).httpStatus).toBe(503);
    expect((error as AppError).message).toContain('samples acknowledged earlier are not in ClickHouse after 250 ms');
    // The writer forces an insert while any read waits: an expired read must not keep it so.
    expect(barriers.size).toBe(0);
    expect(barriers.some(() => true)).toBe(false);
    // A later insert reaching its target finds nothing to release.
    expect(barriers.release(() => true)).toBe(0);
  });

  it('does not time out a read that was released in time', async () => {
    const barriers = new InsertBarriers<number>(100, 'rows');
    const read = barriers.wait(1, () => undefined);
    barriers.release(() => true);
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(read).resolves.toBeUndefined();
  });
});
