import { describe, expect, it } from 'vitest';
import { parsePaging } from '../../src/api/paging.js';
import { parseTimeParam, parseTimeRange } from '../../src/api/time-params.js';

describe('parseTimeParam', () => {
  it('reads Unix seconds (with decimals or an exponent) and RFC 3339 with Z or an offset', () => {
    expect(parseTimeParam('start', '1700000000.5', 0)).toBe(1_700_000_000_500);
    expect(parseTimeParam('start', '1e9', 0)).toBe(1_000_000_000_000);
    expect(parseTimeParam('start', '2026-11-23T10:00:00Z', 0)).toBe(Date.UTC(2026, 10, 23, 10));
    expect(parseTimeParam('start', '2026-11-23T10:00:00+02:00', 0)).toBe(Date.UTC(2026, 10, 23, 8));
    expect(parseTimeParam('start', undefined, 42)).toBe(42);
  });

  it('takes times before 1970 or past 9999 as Prometheus does, clamped to what is stored', () => {
    const max = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    // Go's zero time.Time, which client_golang sends for "from the beginning".
    expect(parseTimeParam('start', '-62135596800', 1)).toBe(0);
    expect(parseTimeParam('start', '-1', 1)).toBe(0);
    expect(parseTimeParam('end', '9000000000000', 1)).toBe(max);
    // Prometheus' own spelling of its earliest and latest time.
    expect(parseTimeParam('start', '-292273086-05-16T16:47:06Z', 1)).toBe(0);
    expect(parseTimeParam('end', '292277025-08-18T07:12:54.999999999Z', 1)).toBe(max);
  });

  it.each([
    ['a date that does not exist', '2024-02-31T00:00:00Z'],
    ['a time without an offset (read in local time otherwise)', '2026-11-23T10:00:00'],
    ['text', 'yesterday'],
    ['an infinite time', '1e400'],
  ])('refuses %s with a 400 naming the parameter', (_name, value) => {
    expect(() => parseTimeParam('end', value, 0)).toThrow(expect.objectContaining({ httpStatus: 400, message: expect.stringContaining('end: ') }));
  });
});

describe('parseTimeRange', () => {
  const range = (start: string | undefined, end: string | undefined) => parseTimeRange({ name: 'start', value: start, fallbackMs: 0 }, { name: 'end', value: end, fallbackMs: 5_000 });

  it('refuses an end before the start as sent, also where both clamp to the same time (Prometheus answers 400)', () => {
    expect(() => range('-1', '-2')).toThrow(expect.objectContaining({ httpStatus: 400, message: 'end must not be before start' }));
    expect(() => range('2026-11-23T10:00:00Z', '2026-11-23T09:59:59Z')).toThrow(expect.objectContaining({ httpStatus: 400 }));
    expect(() => range('6', undefined)).toThrow(expect.objectContaining({ httpStatus: 400 }));
  });

  it("takes what Prometheus takes: its earliest and latest time, a default start, beyond what is stored", () => {
    const from = (start: string | undefined, end: string | undefined) => parseTimeRange({ name: 'start', value: start, fallbackMs: Number.NEGATIVE_INFINITY }, { name: 'end', value: end, fallbackMs: 5_000 });
    const max = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    // Go's zero time as end, no start: the range of everything before 1970 (none stored).
    expect(from(undefined, '-62135596800')).toEqual({ startMs: 0, endMs: 0 });
    expect(from('-292273086-05-16T16:47:06Z', '-1')).toEqual({ startMs: 0, endMs: 0 });
    expect(from('1e12', '292277025-08-18T07:12:54.999999999Z')).toEqual({ startMs: max, endMs: max });
    expect(() => from('292277025-08-18T07:12:54.999999999Z', '1e12')).toThrow(expect.objectContaining({ httpStatus: 400 }));
  });

  it('takes an empty range and clamps both ends as parseTimeParam does', () => {
    expect(range('-2', '-1')).toEqual({ startMs: 0, endMs: 0 });
    expect(range('3', '3')).toEqual({ startMs: 3_000, endMs: 3_000 });
    expect(range(undefined, undefined)).toEqual({ startMs: 0, endMs: 5_000 });
  });
});

describe('parsePaging', () => {
  it('refuses an offset the queries would wrap around (UInt32)', () => {
    expect(parsePaging({ offset: '4294967295' }).offset).toBe(4_294_967_295);
    expect(() => parsePaging({ offset: '4294967296' })).toThrow(expect.objectContaining({ httpStatus: 400 }));
  });

  it('takes decimal digits only, as the contract says integer', () => {
    expect(parsePaging({ limit: '1000', offset: '0' })).toEqual({ limit: 1000, offset: 0 });
    for (const limit of ['1e3', '0x10', '  1', '1.0', '+5', '']) {
      expect(() => parsePaging({ limit }), limit).toThrow(expect.objectContaining({ httpStatus: 400 }));
    }
  });
});
