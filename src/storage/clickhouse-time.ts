/** Milliseconds as the three digits after the point, `000`…`999`. */
const MILLIS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/**
 * Formatted seconds, direct-mapped by second. A batch of rows repeats a few seconds (now, an
 * alert's start) many times; 1024 slots keep them apart at the cost of 24 KiB.
 */
const SLOTS = 1024;
const slotSeconds = new Float64Array(SLOTS).fill(Number.NaN);
const slotPrefixes: string[] = new Array<string>(SLOTS).fill('');
/** The range of a JS Date (TimeClip): beyond it toISOString throws, and so do we. */
const MAX_DATE_MS = 8.64e15;

/**
 * A time as ClickHouse reads DateTime64(3, 'UTC') in JSONEachRow inserts:
 * `2026-11-23 12:00:00.123`. Same output as `toISOString()` without `T` and `Z` for every
 * input (fractions of a ms truncated, years past 9999 signed), RangeError for a time that is
 * not a date; but formats each second once rather than per call (it was 4.5 % of JS CPU).
 */
export function toClickHouseDateTime(ms: number): string {
  if (!(Math.abs(ms) <= MAX_DATE_MS)) return new Date(ms).toISOString();
  // Date truncates towards zero; the second is then the floor, so millis stay in 0..999.
  const t = Math.trunc(ms);
  const seconds = Math.floor(t / 1000);
  const slot = seconds & (SLOTS - 1);
  let prefix = slotPrefixes[slot]!;
  if (slotSeconds[slot] !== seconds) {
    // `YYYY-MM-DDThh:mm:ss.000Z` → `YYYY-MM-DD hh:mm:ss.`
    prefix = new Date(seconds * 1000).toISOString().slice(0, -4).replace('T', ' ');
    slotSeconds[slot] = seconds;
    slotPrefixes[slot] = prefix;
  }
  return prefix + MILLIS[t - seconds * 1000]!;
}
