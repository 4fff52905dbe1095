import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { computeResponseStatistics, nearestRankPercentile, type IncidentTimes } from '../../src/incidents/incident-statistics.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const at = (iso: string): number => Date.parse(iso);
const JANUARY = { fromMs: at('2026-01-01T00:00:00Z'), toMs: at('2026-02-01T00:00:00Z') };
const T = at('2026-01-10T00:00:00Z');

describe('nearestRankPercentile', () => {
  const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  it.each<[number[], number, number | null]>([
    [[15, 20, 35, 40, 50], 5, 15],
    [[15, 20, 35, 40, 50], 30, 20],
    [[15, 20, 35, 40, 50], 40, 20],
    [[15, 20, 35, 40, 50], 50, 35],
    [[15, 20, 35, 40, 50], 100, 50],
    [ten, 50, 5],
    [ten, 90, 9],
    [ten, 99, 10],
    [Array.from({ length: 100 }, (_, i) => i + 1), 99, 99],
    [[42], 1, 42],
    [[], 50, null],
  ])('%j p%d = %s', (values, p, expected) => {
    expect(nearestRankPercentile(values, p)).toBe(expected);
  });

  it('rejects p outside (0, 100]', () => {
    expect(() => nearestRankPercentile([1], 0)).toThrow(RangeError);
    expect(() => nearestRankPercentile([1], 101)).toThrow(RangeError);
  });

  it('property: returns an observed value, monotone in p', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { minLength: 1 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 100 }), (values, p1, p2) => {
        const sorted = [...values].sort((a, b) => a - b);
        const low = nearestRankPercentile(sorted, Math.min(p1, p2));
        const high = nearestRankPercentile(sorted, Math.max(p1, p2));
        expect(sorted).toContain(low);
        expect(low).not.toBeNull();
        expect(high).not.toBeNull();
        expect(low ?? 0).toBeLessThanOrEqual(high ?? 0);
      }),
    );
  });
});

describe('computeResponseStatistics', () => {
  const incidents: IncidentTimes[] = [
    // api P1: acknowledged after 2, 4, 10, 6 min; resolved after 30, 60, 90 min and 20 (auto-resolved, never acknowledged).
    { serviceIds: ['api'], priority: 'P1', createdAtMs: T, acknowledgedAtMs: T + 2 * MIN, resolvedAtMs: T + 30 * MIN },
    { serviceIds: ['api'], priority: 'P1', createdAtMs: T, acknowledgedAtMs: T + 4 * MIN, resolvedAtMs: T + 60 * MIN },
    { serviceIds: ['api'], priority: 'P1', createdAtMs: T, acknowledgedAtMs: T + 10 * MIN, resolvedAtMs: T + 90 * MIN, responseBreached: true },
    { serviceIds: ['api'], priority: 'P1', createdAtMs: T, resolvedAtMs: T + 20 * MIN },
    { serviceIds: ['api'], priority: 'P1', createdAtMs: T, acknowledgedAtMs: T + 6 * MIN, resolutionBreached: true },
    // One incident on two services (db listed twice counts once).
    { serviceIds: ['db', 'api', 'db'], priority: 'P3', createdAtMs: T, acknowledgedAtMs: T + MIN, resolvedAtMs: T + HOUR },
    // Created in December, resolved in January: MTTR only (its breaches belong to December).
    {
      serviceIds: ['web'],
      priority: 'P2',
      createdAtMs: at('2025-12-31T23:00:00Z'),
      acknowledgedAtMs: at('2025-12-31T23:30:00Z'),
      resolvedAtMs: at('2026-01-01T01:00:00Z'),
      responseBreached: true,
      resolutionBreached: true,
    },
    // Created in January, acknowledged exactly at the (exclusive) end: count only.
    { serviceIds: ['web'], priority: 'P2', createdAtMs: at('2026-01-31T23:50:00Z'), acknowledgedAtMs: JANUARY.toMs },
    // Entirely outside the period.
    { serviceIds: ['old'], priority: 'P1', createdAtMs: at('2025-11-01T00:00:00Z'), acknowledgedAtMs: at('2025-11-01T00:05:00Z') },
    // Clock skew: acknowledged "before" creation counts as 0.
    { serviceIds: ['skew'], priority: 'P4', createdAtMs: T, acknowledgedAtMs: T - 1000 },
  ];

  const rows = computeResponseStatistics(incidents, JANUARY);

  it('has one row per service and priority, sorted', () => {
    expect(rows.map((r) => `${r.serviceId}/${r.priority}`)).toEqual(['api/P1', 'api/P3', 'db/P3', 'skew/P4', 'web/P2']);
  });

  it('computes api P1 by hand', () => {
    expect(rows[0]).toEqual({
      serviceId: 'api',
      priority: 'P1',
      count: 5,
      acknowledgedCount: 4,
      resolvedCount: 4,
      responseBreachedCount: 1,
      resolutionBreachedCount: 1,
      // MTTA samples sorted 2, 4, 6, 10 min: mean 5.5 min; ranks ⌈2⌉ = 2, ⌈3.6⌉ = 4, ⌈3.96⌉ = 4.
      mttaMs: 5.5 * MIN,
      mttaP50Ms: 4 * MIN,
      mttaP90Ms: 10 * MIN,
      mttaP99Ms: 10 * MIN,
      // MTTR samples sorted 20, 30, 60, 90 min: mean 50 min.
      mttrMs: 50 * MIN,
      mttrP50Ms: 30 * MIN,
      mttrP90Ms: 90 * MIN,
      mttrP99Ms: 90 * MIN,
    });
  });

  it('counts a multi-service incident once per distinct service', () => {
    for (const row of rows.filter((r) => r.priority === 'P3')) {
      expect(row).toMatchObject({ count: 1, acknowledgedCount: 1, resolvedCount: 1, mttaMs: MIN, mttrMs: HOUR, mttrP99Ms: HOUR });
    }
  });

  it('uses the timestamp in the period, not the creation, to select samples', () => {
    expect(rows.find((r) => r.serviceId === 'web')).toEqual({
      serviceId: 'web',
      priority: 'P2',
      count: 1,
      acknowledgedCount: 0,
      resolvedCount: 1,
      responseBreachedCount: 0,
      resolutionBreachedCount: 0,
      mttaMs: null,
      mttaP50Ms: null,
      mttaP90Ms: null,
      mttaP99Ms: null,
      mttrMs: 2 * HOUR,
      mttrP50Ms: 2 * HOUR,
      mttrP90Ms: 2 * HOUR,
      mttrP99Ms: 2 * HOUR,
    });
  });

  it('clamps skewed timestamps to 0', () => {
    expect(rows.find((r) => r.serviceId === 'skew')).toMatchObject({ acknowledgedCount: 1, mttaMs: 0, mttaP50Ms: 0 });
  });

  it('is empty for no incidents', () => {
    expect(computeResponseStatistics([], JANUARY)).toEqual([]);
  });

  it('rounds means to whole milliseconds', () => {
    const thirds: IncidentTimes[] = [1, 1, 2].map((ms) => ({ serviceIds: ['x'], priority: 'P2', createdAtMs: T, acknowledgedAtMs: T + ms }));
    expect(computeResponseStatistics(thirds, JANUARY)[0]?.mttaMs).toBe(1);
  });
});

describe('nearestRankPercentile rounding', () => {
  it('gives rank ceil(p·n/100) exactly, also where (p/100)·n has a floating-point tail (99.9 % of 1,000)', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(nearestRankPercentile(values, 99.9)).toBe(999);
    expect(nearestRankPercentile(values, 50)).toBe(500);
    expect(nearestRankPercentile(values, 100)).toBe(1000);
  });
});
