import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_SLA_TARGETS,
  addBusinessTime,
  businessTimeBetween,
  computeSlaState,
  validateBusinessCalendar,
  type BusinessCalendar,
  type PauseInterval,
} from '../../src/incidents/sla-timers.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const at = (iso: string): number => Date.parse(iso);

const OFFICE: BusinessCalendar = {
  timeZone: 'Europe/Berlin',
  days: {
    mon: [['09:00', '17:00']],
    tue: [['09:00', '17:00']],
    wed: [['09:00', '17:00']],
    thu: [['09:00', '17:00']],
    fri: [['09:00', '17:00']],
  },
  holidays: ['2026-12-25'],
};
const WHOLE_DAY: BusinessCalendar['days'][keyof BusinessCalendar['days']] = [['00:00', '24:00']];
const BERLIN_ALL_DAY: BusinessCalendar = {
  timeZone: 'Europe/Berlin',
  days: { sun: WHOLE_DAY, mon: WHOLE_DAY, tue: WHOLE_DAY, wed: WHOLE_DAY, thu: WHOLE_DAY, fri: WHOLE_DAY, sat: WHOLE_DAY },
};

describe('24x7 (null calendar)', () => {
  it('adds wall-clock time', () => {
    expect(addBusinessTime(at('2026-01-05T10:00:00Z'), 4 * HOUR, null)).toBe(at('2026-01-05T14:00:00Z'));
    expect(businessTimeBetween(at('2026-03-28T12:00:00Z'), at('2026-03-29T12:00:00Z'), null, [])).toBe(24 * HOUR);
    expect(businessTimeBetween(at('2026-01-02T00:00:00Z'), at('2026-01-01T00:00:00Z'), null, [])).toBe(0);
  });

  it('gives P1 due times from the defaults', () => {
    const state = computeSlaState(
      { createdAtMs: at('2026-01-05T10:00:00Z'), priority: 'P1', pauses: [], calendar: null, targets: DEFAULT_SLA_TARGETS },
      at('2026-01-05T10:05:00Z'),
    );
    expect(state).toEqual({
      responseDueAtMs: at('2026-01-05T10:15:00Z'),
      resolutionDueAtMs: at('2026-01-05T14:00:00Z'),
      responseBreached: false,
      resolutionBreached: false,
      elapsedBusinessMs: 5 * MIN,
    });
  });

  it('rejects negative durations; zero returns the start', () => {
    expect(() => addBusinessTime(0, -1, null)).toThrow(RangeError);
    expect(addBusinessTime(at('2026-01-10T12:00:00Z'), 0, OFFICE)).toBe(at('2026-01-10T12:00:00Z'));
  });
});

describe('business hours, Europe/Berlin 09:00–17:00 Mon–Fri', () => {
  it.each<[string, string, number, string]>([
    ['within a day (CET)', '2026-01-06T09:00:00Z', 2 * HOUR, '2026-01-06T11:00:00Z'],
    ['across a weekend (CET)', '2026-01-09T15:00:00Z', 2 * HOUR, '2026-01-12T09:00:00Z'],
    ['starting on Saturday', '2026-01-10T12:00:00Z', 15 * MIN, '2026-01-12T08:15:00Z'],
    ['starting before opening', '2026-01-07T05:00:00Z', 30 * MIN, '2026-01-07T08:30:00Z'],
    ['ending exactly at closing', '2026-01-07T08:00:00Z', 8 * HOUR, '2026-01-07T16:00:00Z'],
    ['a P3 day and a half', '2026-01-07T12:00:00Z', 24 * HOUR, '2026-01-12T12:00:00Z'],
    ['across the spring DST change (Fri CET → Mon CEST)', '2026-03-27T15:00:00Z', 2 * HOUR, '2026-03-30T08:00:00Z'],
    ['across the autumn DST change (Fri CEST → Mon CET)', '2026-10-23T14:00:00Z', 2 * HOUR, '2026-10-26T09:00:00Z'],
    ['over the Christmas holiday (Thu → Mon)', '2026-12-24T15:00:00Z', 2 * HOUR, '2026-12-28T09:00:00Z'],
  ])('%s', (_name, start, duration, due) => {
    expect(new Date(addBusinessTime(at(start), duration, OFFICE)).toISOString()).toBe(new Date(at(due)).toISOString());
    expect(businessTimeBetween(at(start), at(due), OFFICE, [])).toBe(duration);
  });

  it('counts a whole week as 40 h and a week with the holiday as 32 h', () => {
    expect(businessTimeBetween(at('2026-01-05T00:00:00Z'), at('2026-01-12T00:00:00Z'), OFFICE, [])).toBe(40 * HOUR);
    expect(businessTimeBetween(at('2026-12-21T00:00:00Z'), at('2026-12-28T00:00:00Z'), OFFICE, [])).toBe(32 * HOUR);
  });

  it('supports split windows', () => {
    const split: BusinessCalendar = { timeZone: 'Europe/Berlin', days: { mon: [['13:00', '17:00'], ['08:00', '12:00']] } };
    // Mon 2026-01-05 11:00 CET + 2 h: one hour before lunch, one after.
    expect(addBusinessTime(at('2026-01-05T10:00:00Z'), 2 * HOUR, split)).toBe(at('2026-01-05T13:00:00Z'));
  });
});

describe('DST in a calendar of local days', () => {
  it('2026-03-29 (spring forward) has 23 h, 2026-10-25 (fall back) 25 h', () => {
    expect(businessTimeBetween(at('2026-03-28T23:00:00Z'), at('2026-03-29T22:00:00Z'), BERLIN_ALL_DAY, [])).toBe(23 * HOUR);
    expect(businessTimeBetween(at('2026-10-24T22:00:00Z'), at('2026-10-25T23:00:00Z'), BERLIN_ALL_DAY, [])).toBe(25 * HOUR);
    const sundays: BusinessCalendar = { timeZone: 'Europe/Berlin', days: { sun: WHOLE_DAY } };
    expect(businessTimeBetween(at('2026-03-27T00:00:00Z'), at('2026-04-01T00:00:00Z'), sundays, [])).toBe(23 * HOUR);
    expect(businessTimeBetween(at('2026-10-23T00:00:00Z'), at('2026-10-28T00:00:00Z'), sundays, [])).toBe(25 * HOUR);
  });

  it('a window over the gap or the overlap lasts its real length', () => {
    const night: BusinessCalendar = { timeZone: 'Europe/Berlin', days: { sun: [['01:00', '04:00']] } };
    // Spring: 01:00 CET (00:00Z) to 04:00 CEST (02:00Z). Autumn: 01:00 CEST (23:00Z Sat) to 04:00 CET (03:00Z).
    expect(businessTimeBetween(at('2026-03-28T00:00:00Z'), at('2026-03-30T00:00:00Z'), night, [])).toBe(2 * HOUR);
    expect(addBusinessTime(at('2026-03-28T12:00:00Z'), 90 * MIN, night)).toBe(at('2026-03-29T01:30:00Z'));
    expect(businessTimeBetween(at('2026-10-24T00:00:00Z'), at('2026-10-26T00:00:00Z'), night, [])).toBe(4 * HOUR);
    expect(addBusinessTime(at('2026-10-24T12:00:00Z'), 4 * HOUR, night)).toBe(at('2026-10-25T03:00:00Z'));
  });

  it('a window starting in the spring gap starts at the end of the gap', () => {
    const gap: BusinessCalendar = { timeZone: 'Europe/Berlin', days: { sun: [['02:30', '05:00']] } };
    // 02:30 does not exist on 2026-03-29: it becomes 03:30 CEST (01:30Z); 05:00 CEST is 03:00Z.
    expect(businessTimeBetween(at('2026-03-29T00:00:00Z'), at('2026-03-30T00:00:00Z'), gap, [])).toBe(90 * MIN);
  });
});

describe('pauses', () => {
  const t0 = at('2026-01-05T10:00:00Z');

  it('push the due times out (24x7)', () => {
    const pauses: PauseInterval[] = [{ startMs: t0 + HOUR, endMs: t0 + 3 * HOUR }];
    const state = computeSlaState({ createdAtMs: t0, priority: 'P1', pauses, calendar: null, targets: DEFAULT_SLA_TARGETS }, t0 + 5 * HOUR);
    expect(state.responseDueAtMs).toBe(t0 + 15 * MIN);
    expect(state.resolutionDueAtMs).toBe(t0 + 6 * HOUR);
    expect(state.elapsedBusinessMs).toBe(3 * HOUR);
    expect(state.resolutionBreached).toBe(false);
  });

  it('a pause after the acknowledgement leaves the response due time where it was (that clock had stopped)', () => {
    const acknowledged = { createdAtMs: t0, priority: 'P1' as const, acknowledgedAtMs: t0 + 5 * MIN, calendar: null, targets: DEFAULT_SLA_TARGETS };
    const after = computeSlaState({ ...acknowledged, pauses: [{ startMs: t0 + 10 * MIN, endMs: t0 + 2 * HOUR }] }, t0 + 3 * HOUR);
    expect(after.responseDueAtMs).toBe(t0 + 15 * MIN);
    expect(after.resolutionDueAtMs).toBe(t0 + 4 * HOUR + 110 * MIN);
    // A pause running across the acknowledgement counts up to it.
    const across = computeSlaState({ ...acknowledged, pauses: [{ startMs: t0 + 2 * MIN, endMs: null }] }, t0 + HOUR);
    expect(across.responseDueAtMs).toBe(t0 + 18 * MIN);
    expect(across.responseBreached).toBe(false);
  });

  it('a running pause ends now for the projection', () => {
    const state = computeSlaState(
      { createdAtMs: t0, priority: 'P1', acknowledgedAtMs: t0 + 5 * MIN, pauses: [{ startMs: t0 + HOUR, endMs: null }], calendar: null, targets: DEFAULT_SLA_TARGETS },
      t0 + 5 * HOUR,
    );
    expect(state.resolutionDueAtMs).toBe(t0 + 8 * HOUR);
    expect(state.elapsedBusinessMs).toBe(HOUR);
    expect(state.resolutionBreached).toBe(false);
  });

  it('overlapping pauses count once, and pauses outside business hours change nothing', () => {
    const pauses: PauseInterval[] = [
      { startMs: t0 + HOUR, endMs: t0 + 2 * HOUR },
      { startMs: t0 + 90 * MIN, endMs: t0 + 3 * HOUR },
      { startMs: at('2026-01-05T18:00:00Z'), endMs: at('2026-01-06T07:00:00Z') },
    ];
    // Mon 11:00 CET, P2 (8 h business): 6 h today minus 2 h paused = 4 h, then 4 h on Tuesday → 13:00 CET.
    const state = computeSlaState({ createdAtMs: t0, priority: 'P2', pauses, calendar: OFFICE, targets: DEFAULT_SLA_TARGETS }, t0);
    expect(state.resolutionDueAtMs).toBe(at('2026-01-06T12:00:00Z'));
    expect(businessTimeBetween(t0, at('2026-01-06T12:00:00Z'), OFFICE, pauses)).toBe(8 * HOUR);
  });
});

describe('breach flags', () => {
  const t0 = at('2026-01-05T10:00:00Z');
  const base = { createdAtMs: t0, priority: 'P1' as const, pauses: [], calendar: null, targets: DEFAULT_SLA_TARGETS };

  it.each<[string, { acknowledgedAtMs?: number; resolvedAtMs?: number }, number, boolean, boolean]>([
    ['acknowledged exactly on time', { acknowledgedAtMs: t0 + 15 * MIN }, t0 + HOUR, false, false],
    ['acknowledged late', { acknowledgedAtMs: t0 + 15 * MIN + 1 }, t0 + HOUR, true, false],
    ['not acknowledged, still within target', {}, t0 + 10 * MIN, false, false],
    ['not acknowledged past target', {}, t0 + 16 * MIN, true, false],
    ['auto-resolved before anyone acknowledged', { resolvedAtMs: t0 + 10 * MIN }, t0 + 10 * HOUR, false, false],
    ['unresolved past the resolution target', { acknowledgedAtMs: t0 + MIN }, t0 + 4 * HOUR + 1, false, true],
    ['resolved late', { acknowledgedAtMs: t0 + MIN, resolvedAtMs: t0 + 5 * HOUR }, t0 + 10 * HOUR, false, true],
  ])('%s', (_name, times, nowMs, responseBreached, resolutionBreached) => {
    const state = computeSlaState({ ...base, ...times }, nowMs);
    expect(state.responseBreached).toBe(responseBreached);
    expect(state.resolutionBreached).toBe(resolutionBreached);
  });

  it('business hours: acknowledged on Monday morning for a Friday-evening P1 is on time', () => {
    const created = at('2026-01-09T16:55:00Z'); // Fri 17:55 CET, after closing
    const state = computeSlaState(
      { ...base, createdAtMs: created, calendar: OFFICE, acknowledgedAtMs: at('2026-01-12T08:10:00Z') },
      at('2026-01-12T08:30:00Z'),
    );
    expect(state.responseDueAtMs).toBe(at('2026-01-12T08:15:00Z'));
    expect(state.responseBreached).toBe(false);
    expect(state.elapsedBusinessMs).toBe(30 * MIN);
  });
});

describe('validateBusinessCalendar', () => {
  it('accepts the office calendar', () => {
    expect(validateBusinessCalendar(JSON.parse(JSON.stringify(OFFICE)))).toEqual({ ok: true, calendar: OFFICE });
  });

  it('lists every problem with its place', () => {
    expect(
      validateBusinessCalendar({
        timeZone: 'Mars/Olympus',
        days: { mon: [['17:00', '09:00'], ['25:00', '26:00']], tue: [['09:00', '13:00'], ['12:00', '17:00']], funday: [] },
        holidays: ['2026-02-30'],
        extra: 1,
      }),
    ).toEqual({
      ok: false,
      problems: [
        'extra: unknown key; valid keys are timeZone, days, holidays',
        'timeZone: unknown time zone "Mars/Olympus"',
        'days.mon[0]: start must be before end',
        'days.mon[1]: times must be HH:MM between 00:00 and 24:00',
        'days.tue: windows overlap',
        'days.funday: unknown weekday; valid are sun, mon, tue, wed, thu, fri, sat',
        'holidays[0]: must be a date YYYY-MM-DD, got "2026-02-30"',
      ],
    });
  });

  it('addBusinessTime refuses a calendar without business time', () => {
    expect(() => addBusinessTime(0, HOUR, { timeZone: 'UTC', days: {} })).toThrow(/no business time/);
  });
});

describe('properties', () => {
  const start = fc.integer({ min: at('2025-12-01T00:00:00Z'), max: at('2027-01-31T00:00:00Z') });
  const duration = fc.integer({ min: 0, max: 80 * HOUR });
  const calendar = fc.constantFrom<BusinessCalendar | null>(null, OFFICE, BERLIN_ALL_DAY);

  it('addBusinessTime is monotone in duration', () => {
    fc.assert(
      fc.property(start, duration, duration, calendar, (s, d1, d2, cal) => {
        const [small, large] = d1 <= d2 ? [d1, d2] : [d2, d1];
        expect(addBusinessTime(s, small, cal)).toBeLessThanOrEqual(addBusinessTime(s, large, cal));
      }),
      { numRuns: 60 },
    );
  });

  it('businessTimeBetween(start, addBusinessTime(start, d)) === d, with and without pauses', () => {
    const pauses = fc.array(
      fc.record({ offsetMs: fc.integer({ min: 0, max: 100 * HOUR }), lengthMs: fc.integer({ min: 1, max: 30 * HOUR }) }),
      { maxLength: 3 },
    );
    fc.assert(
      fc.property(start, duration, calendar, pauses, (s, d, cal, ps) => {
        const intervals = ps.map((p) => ({ startMs: s + p.offsetMs, endMs: s + p.offsetMs + p.lengthMs }));
        expect(businessTimeBetween(s, addBusinessTime(s, d, cal), cal, [])).toBe(d);
        expect(businessTimeBetween(s, addBusinessTime(s, d, cal, intervals), cal, intervals)).toBe(d);
      }),
      { numRuns: 60 },
    );
  });
});
