import { AppError } from '../shared/errors.js';

/**
 * Parses a Prometheus API time: RFC 3339 or Unix seconds with optional decimals, and the
 * spellings of its earliest and latest time. Returns ms since epoch, within what is stored
 * (1970 to 9999: Prometheus clients ask from before 1970 for "everything", e.g. Go's zero
 * time.Time as -62135596800); `fallback` when absent; throws a 400 naming the parameter.
 */
export function parseTimeParam(name: string, value: string | undefined, fallbackMs: number): number {
  return clampTime(readTime(name, value, fallbackMs));
}

/**
 * Parses a range's two times as parseTimeParam does, refusing (400, in Prometheus' words) an
 * end before the start as sent: before the clamp, which would make -2 and -1 equal (0).
 * Prometheus' earliest and latest time, and a fallback of ±Infinity, are before and after
 * every other time.
 */
export function parseTimeRange(
  start: { name: string; value: string | undefined; fallbackMs: number },
  end: { name: string; value: string | undefined; fallbackMs: number },
): { startMs: number; endMs: number } {
  const startMs = readTime(start.name, start.value, start.fallbackMs);
  const endMs = readTime(end.name, end.value, end.fallbackMs);
  if (endMs < startMs) throw new AppError('REQUEST_INVALID', `${end.name} must not be before ${start.name}`, { httpStatus: 400 });
  return { startMs: clampTime(startMs), endMs: clampTime(endMs) };
}

function clampTime(ms: number): number {
  return Math.min(Math.max(ms, MIN_TIME_MS), MAX_TIME_MS);
}

/** parseTimeParam without the clamp. */
function readTime(name: string, value: string | undefined, fallbackMs: number): number {
  if (value === undefined || value === '') return fallbackMs;
  // Before and after any time a client may give: compared as such, clamped after.
  if (value === PROMETHEUS_MIN_TIME) return Number.NEGATIVE_INFINITY;
  if (value === PROMETHEUS_MAX_TIME) return Number.POSITIVE_INFINITY;
  let ms: number;
  if (/^-?\d+(\.\d+)?(e\d+)?$/i.test(value)) ms = Math.round(Number(value) * 1000);
  else {
    // RFC 3339 needs its offset (Z or ±hh:mm): without one, Date.parse reads local time.
    ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(value) ? Date.parse(value) : Number.NaN;
    // Date.parse rolls 2024-02-31 over to March: the date must read back the same.
    if (!Number.isNaN(ms) && new Date(ms + offsetMsOf(value)).toISOString().slice(0, 10) !== value.slice(0, 10)) ms = Number.NaN;
    if (Number.isNaN(ms)) throw new AppError('REQUEST_INVALID', `${name}: ${JSON.stringify(value)} is neither RFC 3339 (with Z or an offset) nor Unix seconds`, { httpStatus: 400 });
  }
  if (!Number.isFinite(ms)) throw new AppError('REQUEST_INVALID', `${name}: ${JSON.stringify(value)} is not a finite time`, { httpStatus: 400 });
  return ms;
}

/** How Prometheus' API writes its earliest and latest time (web/api/v1: minTimeFormatted, maxTimeFormatted). */
const PROMETHEUS_MIN_TIME = '-292273086-05-16T16:47:06Z';
const PROMETHEUS_MAX_TIME = '292277025-08-18T07:12:54.999999999Z';

const MIN_TIME_MS = 0;
const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** The offset of an RFC 3339 time in ms (+02:00 → 7,200,000), to read its local date back. */
function offsetMsOf(value: string): number {
  const m = /([+-])(\d{2}):(\d{2})$/.exec(value);
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
}
