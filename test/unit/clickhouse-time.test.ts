import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toClickHouseDateTime } from '../../src/storage/clickhouse-time.js';

/** The formatter before the per-second cache: the reference output. */
function reference(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

describe('toClickHouseDateTime', () => {
  it.each([
    ['epoch', 0],
    ['ms = 0', Date.parse('2026-11-23T12:00:00.000Z')],
    ['ms = 999', Date.parse('2026-11-23T12:00:00.999Z')],
    ['ms = 1', Date.parse('2026-11-23T12:00:00.001Z')],
    ['end of a year', Date.parse('2025-12-31T23:59:59.999Z')],
    ['leap day', Date.parse('2024-02-29T00:00:00.500Z')],
    ['just before the epoch', -1],
    ['before the epoch, whole second', -1000],
    ['1969, mid-second', -1500],
    ['fraction of a ms', 1_700_000_000_123.9],
    ['negative fraction', -0.5],
    ['year 9999', Date.parse('9999-12-31T23:59:59.999Z')],
    ['past year 9999', 253_402_300_800_000],
    ['largest date', 8.64e15],
    ['smallest date', -8.64e15],
  ])('%s: same as toISOString without T and Z', (_label, ms) => {
    expect(toClickHouseDateTime(ms)).toBe(reference(ms));
    // Again, now from the cache.
    expect(toClickHouseDateTime(ms)).toBe(reference(ms));
  });

  it('is the same for any time, however calls interleave in the cache', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -8.64e15, max: 8.64e15 }), { minLength: 1, maxLength: 50 }), (times) => {
        for (const ms of times) expect(toClickHouseDateTime(ms)).toBe(reference(ms));
      }),
    );
    // Around now: the seconds that share cache slots.
    const now = Date.parse('2026-11-23T12:00:00Z');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: now - 86_400_000, max: now + 86_400_000 }), { minLength: 1, maxLength: 200 }), (times) => {
        for (const ms of times) expect(toClickHouseDateTime(ms)).toBe(reference(ms));
      }),
    );
  });

  it('throws a RangeError for what is not a date, as toISOString does', () => {
    for (const ms of [Number.NaN, Number.POSITIVE_INFINITY, 8.64e15 + 1, -8.64e15 - 1]) {
      expect(() => toClickHouseDateTime(ms)).toThrow(RangeError);
    }
  });
});
