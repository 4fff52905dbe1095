/**
 * SLA timers of an incident: a response target (until acknowledgement) and a resolution
 * target (until resolution) per priority, counted in 24×7 time or in the business hours of a
 * calendar, and stopped while the incident waits on a third party (pause intervals). This is
 * ServiceNow's SLA model reduced to what Vigil needs (../../../shared/research/alerts.md §7):
 *
 * - Both clocks start at `createdAtMs` and keep it when priority changes ("retroactive
 *   start": a P3 that becomes P1 after 3 h is measured against P1's targets from creation).
 * - Pauses stop both clocks (the response clock only until the response: a pause after the
 *   acknowledgement leaves its due time); a pause still running (`endMs: null`) is taken to
 *   end at `nowMs`, so due times are projections that move out while the pause lasts.
 * - A target is breached when the clock stops (acknowledgement, resolution) or `nowMs` is
 *   strictly after the due time; meeting it to the millisecond is not a breach.
 *
 * Calendars are in local wall time of an IANA time zone; conversion uses `Intl.DateTimeFormat`
 * and is exact across DST changes (a 09:00–17:00 day is 8 h on both sides of a change; a
 * 00:00–24:00 day is 23 h or 25 h on the change days). Local times that do not exist (the
 * spring-forward gap) move forward by the gap; ambiguous ones (fall-back) take the earlier
 * instant, as Temporal's `disambiguation: 'compatible'` does.
 *
 * Pure: no I/O, time comes in as parameters.
 */
import type { Priority } from './priority.js';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** `['HH:MM', 'HH:MM']` in local time, start before end; `'24:00'` ends at midnight. */
export type BusinessWindow = readonly [string, string];

export interface BusinessCalendar {
  /** IANA time zone, e.g. `Europe/Berlin`. */
  timeZone: string;
  /** Working windows per weekday; a missing day is a day off. Windows of a day must not overlap. */
  days: Partial<Record<Weekday, readonly BusinessWindow[]>>;
  /** Local dates `YYYY-MM-DD` with no business time. */
  holidays?: readonly string[];
}

export interface PauseInterval {
  startMs: number;
  /** null while the pause is still running. */
  endMs: number | null;
}

export interface SlaTarget {
  responseMs: number;
  resolutionMs: number;
}

export type SlaTargets = Record<Priority, SlaTarget>;

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/**
 * Default targets, counted in whatever calendar the service's SLA names. Response targets
 * follow the commonly published ones (e.g. Saint Louis University: 15 min, 30 min, 4 h);
 * resolution targets the ITIL 2011 example (P1 tightened from 1 h to 4 h, which monitoring-
 * driven incidents with a probable cause can meet; 8 h, 24 h, 48 h).
 */
export const DEFAULT_SLA_TARGETS: SlaTargets = Object.freeze({
  P1: Object.freeze({ responseMs: 15 * MINUTE_MS, resolutionMs: 4 * HOUR_MS }),
  P2: Object.freeze({ responseMs: 30 * MINUTE_MS, resolutionMs: 8 * HOUR_MS }),
  P3: Object.freeze({ responseMs: 4 * HOUR_MS, resolutionMs: 24 * HOUR_MS }),
  P4: Object.freeze({ responseMs: 8 * HOUR_MS, resolutionMs: 48 * HOUR_MS }),
});

/** Past this many local days without business time, a calendar is taken to have none. */
const MAX_SEARCH_DAYS = 3 * 366;

// ---------------------------------------------------------------------------------------------
// Time-zone arithmetic

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Local wall time of `instantMs` in `timeZone`, expressed as if it were UTC (ms resolution). */
function wallClockMs(instantMs: number, timeZone: string): number {
  const fields: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(instantMs)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = fields;
  const ms = ((instantMs % 1000) + 1000) % 1000;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/** UTC offset of `timeZone` at `instantMs` (local − UTC). */
function offsetMs(instantMs: number, timeZone: string): number {
  return wallClockMs(instantMs, timeZone) - instantMs;
}

/** The instant at which the wall clock of `timeZone` shows `localMs` (see the module comment for gaps and overlaps). */
function instantOfWallClock(localMs: number, timeZone: string): number {
  // Offsets a day either side bracket any single transition (no zone changes twice in a day).
  const before = offsetMs(localMs - DAY_MS, timeZone);
  const after = offsetMs(localMs + DAY_MS, timeZone);
  const candidates = [localMs - before, localMs - after].filter((t) => wallClockMs(t, timeZone) === localMs);
  if (candidates.length > 0) return Math.min(...candidates);
  return localMs - before; // in a gap: read with the offset before the change, i.e. moved forward
}

// ---------------------------------------------------------------------------------------------
// Calendars

interface LocalDay {
  /** Midnight of the local date, as if UTC. */
  dayMs: number;
  weekday: Weekday;
  iso: string;
}

function localDay(dayMs: number): LocalDay {
  const date = new Date(dayMs);
  return { dayMs, weekday: WEEKDAYS[date.getUTCDay()] ?? 'sun', iso: date.toISOString().slice(0, 10) };
}

/** Local date (as-if-UTC midnight) of `instantMs`. */
function localDayMs(instantMs: number, timeZone: string): number {
  const wall = wallClockMs(instantMs, timeZone);
  return wall - (((wall % DAY_MS) + DAY_MS) % DAY_MS);
}

/** True for a real date `YYYY-MM-DD` (not 2026-02-30). */
function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const ms = Date.UTC(Number(text.slice(0, 4)), Number(text.slice(5, 7)) - 1, Number(text.slice(8, 10)));
  return new Date(ms).toISOString().slice(0, 10) === text;
}

const TIME_PATTERN = /^([01]\d|2[0-4]):([0-5]\d)$/;

/** Minutes after local midnight of `HH:MM` (00:00..24:00), or undefined when malformed. */
function parseTimeOfDay(text: string): number | undefined {
  const match = TIME_PATTERN.exec(text);
  if (match === null) return undefined;
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  return minutes <= 24 * 60 ? minutes : undefined;
}

/** Business intervals `[startMs, endMs)` of one local day, in order. Throws on a malformed window. */
function businessIntervalsOfDay(day: LocalDay, calendar: BusinessCalendar): Array<[number, number]> {
  if (calendar.holidays?.includes(day.iso) === true) return [];
  const intervals: Array<[number, number]> = [];
  for (const [from, to] of calendar.days[day.weekday] ?? []) {
    const fromMinutes = parseTimeOfDay(from);
    const toMinutes = parseTimeOfDay(to);
    if (fromMinutes === undefined || toMinutes === undefined || fromMinutes >= toMinutes) {
      throw new RangeError(`business calendar ${day.weekday}: invalid window ${JSON.stringify([from, to])}`);
    }
    const startMs = instantOfWallClock(day.dayMs + fromMinutes * MINUTE_MS, calendar.timeZone);
    const endMs = instantOfWallClock(day.dayMs + toMinutes * MINUTE_MS, calendar.timeZone);
    if (endMs > startMs) intervals.push([startMs, endMs]);
  }
  return intervals.sort((a, b) => a[0] - b[0]);
}

/** Intervals in which time counts, clipped to `[startMs, endMs)`; null calendar = one 24×7 interval. */
function countedIntervals(startMs: number, endMs: number, calendar: BusinessCalendar | null): Array<[number, number]> {
  if (endMs <= startMs) return [];
  if (calendar === null) return [[startMs, endMs]];
  const result: Array<[number, number]> = [];
  // One day of margin either side: a local day's windows may begin before its UTC date.
  const lastDay = localDayMs(endMs, calendar.timeZone) + DAY_MS;
  for (let dayMs = localDayMs(startMs, calendar.timeZone) - DAY_MS; dayMs <= lastDay; dayMs += DAY_MS) {
    for (const [a, b] of businessIntervalsOfDay(localDay(dayMs), calendar)) {
      const from = Math.max(a, startMs);
      const to = Math.min(b, endMs);
      if (to > from) result.push([from, to]);
    }
  }
  return result;
}

/** Pauses as sorted, merged, closed intervals; open pauses end at `openEndMs`. */
function mergePauses(pauses: readonly PauseInterval[], openEndMs: number): Array<[number, number]> {
  const intervals = pauses
    .map((p): [number, number] => [p.startMs, p.endMs ?? Math.max(openEndMs, p.startMs)])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const [a, b] of intervals) {
    const last = merged[merged.length - 1];
    if (last !== undefined && a <= last[1]) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  return merged;
}

/** `intervals` minus `holes`; both sorted and non-overlapping. */
function subtract(intervals: Array<[number, number]>, holes: Array<[number, number]>): Array<[number, number]> {
  const result: Array<[number, number]> = [];
  for (const [a, b] of intervals) {
    let cursor = a;
    for (const [h0, h1] of holes) {
      if (h1 <= cursor || h0 >= b) continue;
      if (h0 > cursor) result.push([cursor, h0]);
      cursor = Math.max(cursor, h1);
      if (cursor >= b) break;
    }
    if (cursor < b) result.push([cursor, b]);
  }
  return result;
}

function sum(intervals: Array<[number, number]>): number {
  let total = 0;
  for (const [a, b] of intervals) total += b - a;
  return total;
}

/**
 * Counted time between two instants: business time of `calendar` (null = 24×7) minus the
 * pauses. Pauses still running count as running to `endMs`. 0 when `endMs <= startMs`.
 */
export function businessTimeBetween(
  startMs: number,
  endMs: number,
  calendar: BusinessCalendar | null,
  pauses: readonly PauseInterval[] = [],
): number {
  return sum(subtract(countedIntervals(startMs, endMs, calendar), mergePauses(pauses, endMs)));
}

/**
 * The earliest instant at which `durationMs` of counted time has passed since `startMs`
 * (business time of `calendar`, null = 24×7, minus closed `pauses`). A zero duration returns
 * `startMs` itself, even outside business hours; a positive one never ends outside a window.
 * Pauses must be closed: a running one (`endMs: null`) is ignored here (`computeSlaState`
 * closes running pauses at `nowMs` first).
 * Throws RangeError for a negative or non-finite duration and for a calendar with no business
 * time in three years (no working day, or every one a holiday).
 */
export function addBusinessTime(
  startMs: number,
  durationMs: number,
  calendar: BusinessCalendar | null,
  pauses: readonly PauseInterval[] = [],
): number {
  if (!Number.isFinite(durationMs) || durationMs < 0) throw new RangeError(`durationMs must be finite and ≥ 0, got ${durationMs}`);
  if (durationMs === 0) return startMs;
  if (calendar === null && pauses.length === 0) return startMs + durationMs;
  const holes = mergePauses(pauses, startMs);
  let remaining = durationMs;
  let chunkStart = startMs;
  let idleDays = 0;
  // Walk forward one local day (or, for 24×7, one day-long chunk) at a time.
  for (;;) {
    const chunkEnd =
      calendar === null ? chunkStart + DAY_MS : instantOfWallClock(localDayMs(chunkStart, calendar.timeZone) + DAY_MS, calendar.timeZone);
    const counted = subtract(countedIntervals(chunkStart, chunkEnd, calendar), holes);
    for (const [a, b] of counted) {
      if (b - a >= remaining) return a + remaining;
      remaining -= b - a;
    }
    idleDays = counted.length === 0 ? idleDays + 1 : 0;
    if (idleDays > MAX_SEARCH_DAYS) throw new RangeError('business calendar has no business time in three years');
    chunkStart = chunkEnd;
  }
}

export interface SlaInput {
  createdAtMs: number;
  priority: Priority;
  acknowledgedAtMs?: number;
  resolvedAtMs?: number;
  pauses: readonly PauseInterval[];
  /** null = 24×7. */
  calendar: BusinessCalendar | null;
  targets: SlaTargets;
}

export interface SlaState {
  responseDueAtMs: number;
  resolutionDueAtMs: number;
  responseBreached: boolean;
  resolutionBreached: boolean;
  /** Counted resolution-clock time from creation to resolution, or to `nowMs` while unresolved. */
  elapsedBusinessMs: number;
}

/**
 * Due times and breach flags of both SLA clocks at `nowMs`. The response clock stops at
 * acknowledgement, or at resolution when nobody acknowledged (an auto-resolved incident). Running pauses end at `nowMs` for
 * the projection (see the module comment). Deterministic; throws only as `addBusinessTime`.
 */
export function computeSlaState(input: SlaInput, nowMs: number): SlaState {
  const target = input.targets[input.priority];
  // Open pauses end now: the clock is stopped until this instant, due times are as if resumed now.
  const pauses = input.pauses.map((p) => ({ startMs: p.startMs, endMs: p.endMs ?? Math.max(nowMs, p.startMs) }));
  // The response clock stopped at the response: a pause after it does not move its due time.
  const respondedMs = input.acknowledgedAtMs ?? input.resolvedAtMs;
  const responsePauses =
    respondedMs === undefined ? pauses : pauses.filter((p) => p.startMs < respondedMs).map((p) => ({ startMs: p.startMs, endMs: Math.min(p.endMs, respondedMs) }));
  const responseDueAtMs = addBusinessTime(input.createdAtMs, target.responseMs, input.calendar, responsePauses);
  const resolutionDueAtMs = addBusinessTime(input.createdAtMs, target.resolutionMs, input.calendar, pauses);
  const respondedAtMs = respondedMs ?? nowMs;
  const resolutionStopMs = input.resolvedAtMs ?? nowMs;
  return {
    responseDueAtMs,
    resolutionDueAtMs,
    responseBreached: respondedAtMs > responseDueAtMs,
    resolutionBreached: resolutionStopMs > resolutionDueAtMs,
    elapsedBusinessMs: businessTimeBetween(input.createdAtMs, resolutionStopMs, input.calendar, pauses),
  };
}

/**
 * Validates a business calendar from configuration: a known IANA time zone, weekday keys,
 * `HH:MM` windows (start before end, non-overlapping per day), `YYYY-MM-DD` holidays. Lists
 * every problem, each naming its place (`days.mon[1]`).
 */
export function validateBusinessCalendar(value: unknown): { ok: true; calendar: BusinessCalendar } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problems: ['calendar: must be an object with timeZone, days and optional holidays'] };
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!['timeZone', 'days', 'holidays'].includes(key)) problems.push(`${key}: unknown key; valid keys are timeZone, days, holidays`);
  }
  if (typeof record.timeZone !== 'string') problems.push('timeZone: must be an IANA time zone name');
  else {
    try {
      formatterFor(record.timeZone);
    } catch {
      problems.push(`timeZone: unknown time zone ${JSON.stringify(record.timeZone)}`);
    }
  }
  const days = record.days;
  if (typeof days !== 'object' || days === null || Array.isArray(days)) problems.push(`days: must be an object keyed by ${WEEKDAYS.join(', ')}`);
  else {
    for (const [day, windows] of Object.entries(days as Record<string, unknown>)) {
      if (!(WEEKDAYS as readonly string[]).includes(day)) {
        problems.push(`days.${day}: unknown weekday; valid are ${WEEKDAYS.join(', ')}`);
        continue;
      }
      if (!Array.isArray(windows)) {
        problems.push(`days.${day}: must be a list of ["HH:MM", "HH:MM"] windows`);
        continue;
      }
      const parsed: Array<[number, number]> = [];
      windows.forEach((window: unknown, index) => {
        const place = `days.${day}[${index}]`;
        if (!Array.isArray(window) || window.length !== 2 || typeof window[0] !== 'string' || typeof window[1] !== 'string') {
          problems.push(`${place}: must be ["HH:MM", "HH:MM"]`);
          return;
        }
        const from = parseTimeOfDay(window[0]);
        const to = parseTimeOfDay(window[1]);
        if (from === undefined || to === undefined) problems.push(`${place}: times must be HH:MM between 00:00 and 24:00`);
        else if (from >= to) problems.push(`${place}: start must be before end`);
        else parsed.push([from, to]);
      });
      parsed.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < parsed.length; i += 1) {
        const previous = parsed[i - 1];
        const current = parsed[i];
        if (previous !== undefined && current !== undefined && current[0] < previous[1]) problems.push(`days.${day}: windows overlap`);
      }
    }
  }
  if (record.holidays !== undefined) {
    if (!Array.isArray(record.holidays)) problems.push('holidays: must be a list of YYYY-MM-DD dates');
    else {
      record.holidays.forEach((holiday: unknown, index) => {
        const valid =
typeof holiday === 'string' && isCalendarDate(holiday);
        if (!valid) problems.push(`holidays[${index}]: must be a date YYYY-MM-DD, got ${JSON.stringify(holiday) ?? String(holiday)}`);
      });
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  // Every field was checked above.
  return { ok: true, calendar: record as unknown as BusinessCalendar };
}
