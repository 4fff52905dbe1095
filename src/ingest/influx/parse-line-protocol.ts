/**
 * InfluxDB line protocol (what Telegraf sends, including its SNMP input) decoded into one
 * series per numeric field, the mapping Prometheus-side stores use.
 *
 * Grammar and escaping follow the line protocol reference
 * (https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/):
 * - `<measurement>[,<tag_key>=<tag_value>...] <field_key>=<field_value>[,...] [<timestamp>]`;
 * - a backslash escapes comma and space in the measurement, comma, equals sign and space in tag
 *   keys, tag values and field keys, and `"` and `\` inside string field values; `\\` is one
 *   backslash everywhere ("Escaping backslashes"); any other backslash is literal;
 * - string field values are double-quoted and may span lines; `#` starts a comment line.
 * Leniencies, as in Telegraf's own parser: runs of spaces or tabs separate the sections and may
 * trail the line, lines may be indented, CRLF line ends are accepted.
 *
 * Naming follows VictoriaMetrics' default (`-influxMeasurementFieldSeparator="_"`, with
 * `-influxSkipSingleField` off, so a field called `value` is not special): the metric name is
 * `{measurement}_{field}` and tags become labels as they are
 * (https://docs.victoriametrics.com/victoriametrics/integrations/influxdb/#data-transformations),
 * then names are made Prometheus-valid as with VictoriaMetrics' `-usePromCompatibleNaming`.
 */
import { rejectPayload, type DecodeResult, type DecodedSeries, type Label } from '../decoded-series.js';

/** Unit of the timestamps in a body, from the `precision` query parameter. */
export type InfluxPrecision = 'ns' | 'us' | 'ms' | 's';

export interface ParseLineProtocolOptions {
  precision: InfluxPrecision;
  /** Arrival time in ms since epoch, the timestamp of points that carry none. */
  nowMs: number;
}

/** Skip reasons, each a metric label on /metrics. */
const SKIP_STRING_FIELD = 'influx_string_field';
/** Tag keys that sanitize to a `__`-prefixed name would clash with `__name__` and Prometheus' reserved labels. */
const SKIP_RESERVED_TAG = 'influx_reserved_tag';

// v1 `/write` accepts n, u and µ as well as the v2 spellings; v1's m and h have no v2 equivalent.
const PRECISION_BY_PARAMETER: ReadonlyMap<string, InfluxPrecision> = new Map<string, InfluxPrecision>([
  ['n', 'ns'],
  ['ns', 'ns'],
  ['u', 'us'],
  ['us', 'us'],
  ['µ', 'us'],
  ['ms', 'ms'],
  ['s', 's'],
]);

/**
 * Maps the `precision` query parameter of `/write` (v1) or `/api/v2/write` (v2) to a unit.
 * Absent means nanoseconds (InfluxDB's default); null means a value Vigil does not accept.
 */
export function parsePrecision(value: string | undefined): InfluxPrecision | null {
  if (value === undefined) return 'ns';
  return PRECISION_BY_PARAMETER.get(value) ?? null;
}

/**
 * Decodes a line protocol body. All or nothing: the first malformed line rejects the body with
 * `INGEST_PAYLOAD_INVALID` and a detail naming the (1-based, physical) line. Never throws.
 * Points with the same measurement, tags and field share one series; a field repeated within a
 * point keeps its last numeric value. String fields are counted in `skipped`, not decoded.
 */
export function parseLineProtocol(body: string, options: ParseLineProtocolOptions): DecodeResult {
  return new LineProtocolParser(body, options).parse();
}

const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const HASH = 35;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const EQUALS = 61;
const BACKSLASH = 92;
const LOWER_E = 101;
const UPPER_E = 69;
const LOWER_I = 105;
const LOWER_U = 117;
const BOM = 0xfeff;

const MAX_INT64 = '9223372036854775807';
const MIN_INT64_ABS = '9223372036854775808';
const MAX_UINT64 = '18446744073709551615';
/** Largest |timestamp| per unit: InfluxDB's ±9223372036854775806 ns, truncated to the unit. */
const MAX_TIMESTAMP: Readonly<Record<InfluxPrecision, string>> = {
  ns: '9223372036854775806',
  us: '9223372036854775',
  ms: '9223372036854',
  s: '9223372036',
};
/** Digits dropped to go from the unit to ms (s multiplies instead). */
const DIGITS_BELOW_MS: Readonly<Record<InfluxPrecision, number>> = { ns: 6, us: 3, ms: 0, s: 0 };
const TRUE_LITERALS: ReadonlySet<string> = new Set(['t', 'T', 'true', 'True', 'TRUE']);
const FALSE_LITERALS: ReadonlySet<string> = new Set(['f', 'F', 'false', 'False', 'FALSE']);
/** Longest excerpt of the input quoted in an error detail. */
const MAX_QUOTED_CHARS = 64;

interface SeriesSlot {
  series: DecodedSeries;
  /** Index of the point that last added a sample, so a repeated field overwrites instead of appending. */
  lastPoint: number;
}

/** The series of one canonical tag set, by metric name. */
interface TagSetSeries {
  labels: Label[];
  byMetricName: Map<string, SeriesSlot>;
}

/** Sanitized names of one raw measurement: `<measurement>_` and the metric name per raw field key. */
interface MeasurementNames {
  prefix: string;
  metricNames: Map<string, string>;
}

class LineProtocolParser {
  private readonly body: string;
  private readonly length: number;
  private readonly precision: InfluxPrecision;
  private readonly nowMs: number;
  private pos = 0;
  /** Physical line of `pos`, counting newlines inside string fields. */
  private line = 1;
  private pointLine = 1;
  private pointIndex = 0;
  private error = '';
  private readonly tagSets = new Map<string, TagSetSeries>();
  private readonly series: DecodedSeries[] = [];
  // Batches repeat measurements and field keys; caching their sanitized names per body saves
  // most string building, and reusing one string object lets V8 reuse its hash in lookups.
  private readonly names = new Map<string, MeasurementNames>();
  // Numeric fields of the current point, reused across points (the timestamp comes after them).
  private readonly fieldNames: string[] = [];
  private readonly fieldValues: number[] = [];
  private stringFields = 0;
  private reservedTags = 0;

  constructor(body: string, options: ParseLineProtocolOptions) {
    this.body = body;
    this.length = body.length;
    this.precision = options.precision;
    this.nowMs = options.nowMs;
  }

  parse(): DecodeResult {
    const b = this.body;
    const n = this.length;
    this.pos = n > 0 && b.charCodeAt(0) === BOM ? 1 : 0;
    while (this.pos < n) {
      this.pos = this.skipBlanks(this.pos);
      if (this.isLineEnd(this.pos)) {
        this.consumeLineEnd();
        continue;
      }
      if (b.charCodeAt(this.pos) === HASH) {
        const lf = b.indexOf('\n', this.pos);
        this.pos = lf === -1 ? n : lf;
        this.consumeLineEnd();
        continue;
      }
      if (!this.parsePoint()) return rejectPayload(`line ${this.pointLine}: ${this.error}`);
    }
    const skipped: Record<string, number> = {};
    if (this.stringFields > 0) skipped[SKIP_STRING_FIELD] = this.stringFields;
    if (this.reservedTags > 0) skipped[SKIP_RESERVED_TAG] = this.reservedTags;
    return { ok: true, series: this.series, skipped };
  }

  /** Parses the point starting at `pos` (not blank, not a comment) through its line end. */
  private parsePoint(): boolean {
    const b = this.body;
    this.pointLine = this.line;
    this.pointIndex++;

    const measurementStart = this.pos;
    let i = this.scanName(measurementStart, false);
    if (i === measurementStart) return this.fail('missing measurement');
    const measurement = this.readName(measurementStart, i, false);

    const measurementEnd = i;
    const tags: Label[] = [];
    // Whether the raw tag section already is the canonical tag-set key (see tagSetKey).
    let tagsCanonical = true;
    let previousName = '';
    while (i < this.length && b.charCodeAt(i) === COMMA) {
      const keyStart = i + 1;
      i = this.scanName(keyStart, true);
      if (i === keyStart) return this.fail('empty tag key');
      const key = this.readName(keyStart, i, true);
      if (b.charCodeAt(i) !== EQUALS) return this.fail(`tag ${quote(key)} is missing "="`);
      const valueStart = i + 1;
      i = this.scanName(valueStart, true);
      if (i < this.length && b.charCodeAt(i) === EQUALS) {
        return this.fail(`tag ${quote(key)} has an unescaped "=" in its value`);
      }
      // InfluxDB does not allow empty tag values; a tag with none is treated as absent.
      if (i === valueStart) {
        tagsCanonical = false;
        continue;
      }
      const name = sanitizeName(key, false, true);
      if (name.charCodeAt(0) === 95 && name.charCodeAt(1) === 95) {
        this.reservedTags++;
        tagsCanonical = false;
        continue;
      }
      if (name !== key || name <= previousName) tagsCanonical = false;
      previousName = name;
      tags.push({ name, value: this.readName(valueStart, i, true) });
    }
    const tagsEnd = i;

    i = this.skipBlanks(i);
    if (this.isLineEnd(i)) return this.fail('missing fields');

    let fieldCount = 0;
    let names: MeasurementNames | undefined;
    for (;;) {
      const keyStart = i;
      i = this.scanName(keyStart, true);
      if (i === keyStart) return this.fail('empty field key');
      const keyEnd = i;
      if (b.charCodeAt(i) !== EQUALS) {
        return this.fail(`field ${quote(this.readName(keyStart, keyEnd, true))} is missing "="`);
      }
      i++;
      if (i < this.length && b.charCodeAt(i) === QUOTE) {
        i = this.skipString(i);
        if (i < 0) return this.fail(`unterminated string in field ${quote(this.readName(keyStart, keyEnd, true))}`);
        if (!this.isSeparator(i)) {
          return this.fail(`unexpected text after the string in field ${quote(this.readName(keyStart, keyEnd, true))}`);
        }
        this.stringFields++;
      } else {
        const valueStart = i;
        i = this.scanValue(valueStart);
        if (i === valueStart) return this.fail(`field ${quote(this.readName(keyStart, keyEnd, true))} has no value`);
        const value = this.parseFieldValue(valueStart, i);
        if (value === undefined) return false;
        names ??= this.namesOf(measurement);
        const key = this.readName(keyStart, keyEnd, true);
        let metricName = names.metricNames.get(key);
        if (metricName === undefined) {
          metricName = names.prefix + sanitizeName(key, true, false);
          names.metricNames.set(key, metricName);
        }
        this.fieldNames[fieldCount] = metricName;
        this.fieldValues[fieldCount] = value;
        fieldCount++;
      }
      if (i < this.length && b.charCodeAt(i) === COMMA) {
        i++;
        continue;
      }
      break;
    }

    i = this.skipBlanks(i);
    let timestampMs = this.nowMs;
    if (!this.isLineEnd(i)) {
      const timestampStart = i;
      i = this.scanValue(timestampStart);
      const parsed = this.parseTimestamp(timestampStart, i);
      if (parsed === undefined) return false;
      timestampMs = parsed;
      i = this.skipBlanks(i);
      if (!this.isLineEnd(i)) return this.fail(`unexpected text after the timestamp: ${quote(this.lineRest(i))}`);
    }
    this.pos = i;
    this.consumeLineEnd();

    if (fieldCount > 0) {
      const rawTags = b.slice(measurementEnd, tagsEnd);
      const tagKey = tagsCanonical && !rawTags.includes('\\') ? rawTags : tagSetKey(canonicalTags(tags));
      this.addSamples(fieldCount, tagKey, tags, timestampMs);
    }
    return true;
  }

  private namesOf(measurement: string): MeasurementNames {
    let names = this.names.get(measurement);
    if (names === undefined) {
      names = { prefix: `${sanitizeName(measurement, true, true)}_`, metricNames: new Map() };
      this.names.set(measurement, names);
    }
    return names;
  }

  /** Adds the current point's `fieldCount` numeric fields as samples of their series. */
  private addSamples(fieldCount: number, tagKey: string, tags: Label[], timestampMs: number): void {
    let tagSet = this.tagSets.get(tagKey);
    if (tagSet === undefined) {
      tagSet = { labels: canonicalTags(tags), byMetricName: new Map() };
      this.tagSets.set(tagKey, tagSet);
    }
    for (let k = 0; k < fieldCount; k++) {
      const metricName = this.fieldNames[k] ?? '';
      const value = this.fieldValues[k] ?? 0;
      const slot = tagSet.byMetricName.get(metricName);
      if (slot === undefined) {
        const series: DecodedSeries = {
          labels: [{ name: '__name__', value: metricName }, ...tagSet.labels],
          timestampsMs: [timestampMs],
          values: [value],
        };
        tagSet.byMetricName.set(metricName, { series, lastPoint: this.pointIndex });
        this.series.push(series);
      } else if (slot.lastPoint === this.pointIndex) {
        // Same field (or two keys sanitizing alike) twice in one point: the last one wins.
        slot.series.values[slot.series.values.length - 1] = value;
      } else {
        slot.lastPoint = this.pointIndex;
        slot.series.timestampsMs.push(timestampMs);
        slot.series.values.push(value);
      }
    }
  }

  /**
   * End of a measurement (`keyLike` false) or of a tag key, tag value or field key (`keyLike`
   * true): the first unescaped comma, space, tab or line end, and for keys the first unescaped "=".
   */
  private scanName(start: number, keyLike: boolean): number {
    const b = this.body;
    const n = this.length;
    let i = start;
    while (i < n) {
      const c = b.charCodeAt(i);
      if (c === BACKSLASH) {
        i += i + 1 < n && isEscapable(b.charCodeAt(i + 1), keyLike) ? 2 : 1;
        continue;
      }
      if (c === COMMA || c === SPACE || c === TAB || c === LF) break;
      if (c === EQUALS && keyLike) break;
      if (c === CR && this.isLineEnd(i)) break;
      i++;
    }
    return i;
  }

  /** The unescaped text of a token delimited by scanName. */
  private readName(start: number, end: number, keyLike: boolean): string {
    const b = this.body;
    const raw = b.slice(start, end);
    if (!raw.includes('\\')) return raw;
    let out = '';
    let from = start;
    for (let i = start; i < end - 1; i++) {
      if (b.charCodeAt(i) === BACKSLASH && isEscapable(b.charCodeAt(i + 1), keyLike)) {
        out += b.slice(from, i);
        from = i + 1;
        i++;
      }
    }
    return out + b.slice(from, end);
  }

  /** End of an unquoted field value or timestamp: comma, space, tab or line end. */
  private scanValue(start: number): number {
    const b = this.body;
    const n = this.length;
    let i = start;
    while (i < n) {
      const c = b.charCodeAt(i);
      if (c === COMMA || c === SPACE || c === TAB || c === LF) break;
      if (c === CR && this.isLineEnd(i)) break;
      i++;
    }
    return i;
  }

  /** Index after the closing quote of the string opening at `start`, or -1 when unterminated. */
  private skipString(start: number): number {
    const b = this.body;
    const n = this.length;
    let newlines = 0;
    let i = start + 1;
    while (i < n) {
      const c = b.charCodeAt(i);
      if (c === QUOTE) {
        this.line += newlines;
        return i + 1;
      }
      if (c === BACKSLASH && i + 1 < n) {
        const next = b.charCodeAt(i + 1);
        if (next === QUOTE || next === BACKSLASH) {
          i += 2;
          continue;
        }
      }
      if (c === LF) newlines++;
      i++;
    }
    return -1;
  }

  /** A number or boolean field value as a sample value; undefined (with `error` set) when malformed. */
  private parseFieldValue(start: number, end: number): number | undefined {
    const b = this.body;
    const first = b.charCodeAt(start);
    if (!isDigit(first) && first !== MINUS && first !== DOT) {
      const text = b.slice(start, end);
      if (TRUE_LITERALS.has(text)) return 1;
      if (FALSE_LITERALS.has(text)) return 0;
      this.fail(`field value ${quote(text)} is not a number, boolean or quoted string`);
      return undefined;
    }
    const last = b.charCodeAt(end - 1);
    if (last === LOWER_I || last === LOWER_U) return this.parseInteger(start, end - 1, last === LOWER_U);
    const fast = decimalFastPath(b, start, end);
    if (fast !== undefined) return fast;
    if (!isFloatSyntax(b, start, end)) {
      this.fail(`field value ${quote(b.slice(start, end))} is not a number`);
      return undefined;
    }
    const value = Number(b.slice(start, end));
    if (!Number.isFinite(value)) {
      this.fail(`field value ${quote(b.slice(start, end))} is out of range`);
      return undefined;
    }
    return value;
  }

  /** `-?[0-9]+` before an `i` suffix (int64), or `[0-9]+` before a `u` suffix (uint64). */
  private parseInteger(start: number, end: number, unsigned: boolean): number | undefined {
    const b = this.body;
    const negative = b.charCodeAt(start) === MINUS;
    let i = negative ? start + 1 : start;
    if (i === end || (negative && unsigned) || !allDigits(b, i, end)) {
      this.fail(`field value ${quote(b.slice(start, end + 1))} is not a number`);
      return undefined;
    }
    while (i < end - 1 && b.charCodeAt(i) === DIGIT_0) i++;
    const limit = unsigned ? MAX_UINT64 : negative ? MIN_INT64_ABS : MAX_INT64;
    if (exceeds(b, i, end, limit)) {
      this.fail(`field value ${quote(b.slice(start, end + 1))} is out of range`);
      return undefined;
    }
    // Up to 15 digits the sum is exact; above, Number() rounds to float64 like any sample.
    const magnitude = end - i <= 15 ? digitsValue(b, i, end) : Number(b.slice(i, end));
    return negative ? -magnitude : magnitude;
  }

  /** Integer timestamp in `precision` to ms, floored, exactly (no float detour for ns/us). */
  private parseTimestamp(start: number, end: number): number | undefined {
    const b = this.body;
    const negative = b.charCodeAt(start) === MINUS;
    let i = negative ? start + 1 : start;
    if (i === end || !allDigits(b, i, end)) {
      this.fail(`timestamp ${quote(b.slice(start, end))} is not an integer`);
      return undefined;
    }
    while (i < end - 1 && b.charCodeAt(i) === DIGIT_0) i++;
    if (exceeds(b, i, end, MAX_TIMESTAMP[this.precision])) {
      this.fail(`timestamp ${quote(b.slice(start, end))} is out of range`);
      return undefined;
    }
    let ms: number;
    if (this.precision === 's') {
      ms = digitsValue(b, i, end) * 1000;
    } else {
      const dropped = DIGITS_BELOW_MS[this.precision];
      const wholeEnd = Math.max(i, end - dropped);
      // At most 13 digits remain after the range check, far below 2^53.
      ms = digitsValue(b, i, wholeEnd);
      if (negative && !allZeros(b, wholeEnd, end)) ms += 1; // floor, not truncation, below zero
    }
    return negative && ms !== 0 ? -ms : ms;
  }

  private fail(detail: string): false {
    this.error = detail;
    return false;
  }

  private skipBlanks(start: number): number {
    const b = this.body;
    let i = start;
    while (i < this.length) {
      const c = b.charCodeAt(i);
      if (c !== SPACE && c !== TAB) break;
      i++;
    }
    return i;
  }

  private isLineEnd(i: number): boolean {
    if (i >= this.length) return true;
    const c = this.body.charCodeAt(i);
    if (c === LF) return true;
    return c === CR && (i + 1 >= this.length || this.body.charCodeAt(i + 1) === LF);
  }

  /** After a field value: another field, the timestamp's separator, or the line end. */
  private isSeparator(i: number): boolean {
    if (this.isLineEnd(i)) return true;
    const c = this.body.charCodeAt(i);
    return c === COMMA || c === SPACE || c === TAB;
  }

  /** Moves `pos` past the line end at `pos` (CRLF, LF or end of body). */
  private consumeLineEnd(): void {
    if (this.pos < this.length && this.body.charCodeAt(this.pos) === CR) this.pos++;
    if (this.pos < this.length && this.body.charCodeAt(this.pos) === LF) {
      this.pos++;
      this.line++;
    }
  }

  private lineRest(start: number): string {
    const lf = this.body.indexOf('\n', start);
    return this.body.slice(start, lf === -1 ? this.length : lf);
  }
}

function isEscapable(c: number, keyLike: boolean): boolean {
  return c === COMMA || c === SPACE || c === BACKSLASH || (keyLike && c === EQUALS);
}

function isDigit(c: number): boolean {
  return c >= DIGIT_0 && c <= DIGIT_9;
}

function allDigits(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/** Value of the decimal digits s[start, end); exact while it stays below 2^53 (15 digits). */
function digitsValue(s: string, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + (s.charCodeAt(i) - DIGIT_0);
  return value;
}

/** 10^0 … 10^22, the powers of ten a float64 holds exactly. */
const EXACT_POWERS_OF_TEN = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
  1e19, 1e20, 1e21, 1e22,
];

/**
 * `-?digits[.digits]` with at most 15 digits, without building a string: the digits and the
 * power of ten are exact doubles, so one division is correctly rounded (Clinger's fast path)
 * and equals Number(). Undefined for anything else (exponents, long mantissas, syntax errors).
 */
function decimalFastPath(s: string, start: number, end: number): number | undefined {
  let i = start;
  const negative = s.charCodeAt(i) === MINUS;
  if (negative) i++;
  let mantissa = 0;
  let digits = 0;
  let fractionDigits = 0;
  let seenDot = false;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) {
      mantissa = mantissa * 10 + (c - DIGIT_0);
      digits++;
      if (seenDot) fractionDigits++;
    } else if (c === DOT && !seenDot) {
      seenDot = true;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || digits > 15) return undefined;
  const value = mantissa / (EXACT_POWERS_OF_TEN[fractionDigits] ?? Number.NaN);
  return negative ? -value : value;
}

/**
 * The canonical key of a canonical tag set: `,name=value` per tag, with `\`, `,` and `=`
 * escaped in values (names are [a-zA-Z0-9_]). A raw tag section that is sorted, escape-free and
 * has valid names is byte-identical, so the parser can use it without building anything.
 */
function tagSetKey(tags: Label[]): string {
  let key = '';
  for (const tag of tags) key += `,${tag.name}=${escapeTagValue(tag.value)}`;
  return key;
}

function escapeTagValue(value: string): string {
  if (!/[\\,=]/.test(value)) return value;
  return value.replace(/[\\,=]/g, '\\$&');
}

function allZeros(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (s.charCodeAt(i) !== DIGIT_0) return false;
  return true;
}

/** Whether the digits s[start, end) (no leading zeros) exceed the decimal `limit`. */
function exceeds(s: string, start: number, end: number, limit: string): boolean {
  const length = end - start;
  if (length !== limit.length) return length > limit.length;
  return s.slice(start, end) > limit;
}

/** Line protocol floats: `-?(digits[.digits]|.digits)([eE][+-]?digits)?`, no NaN, Inf or `+`. */
function isFloatSyntax(s: string, start: number, end: number): boolean {
  let i = start;
  if (s.charCodeAt(i) === MINUS) i++;
  let mantissaDigits = 0;
  while (i < end && isDigit(s.charCodeAt(i))) {
    i++;
    mantissaDigits++;
  }
  if (i < end && s.charCodeAt(i) === DOT) {
    i++;
    while (i < end && isDigit(s.charCodeAt(i))) {
      i++;
      mantissaDigits++;
    }
  }
  if (mantissaDigits === 0) return false;
  if (i === end) return true;
  const e = s.charCodeAt(i);
  if (e !== LOWER_E && e !== UPPER_E) return false;
  i++;
  const sign = s.charCodeAt(i);
  if (sign === MINUS || sign === 43) i++;
  return i < end && allDigits(s, i, end);
}

function isNameChar(c: number, allowColon: boolean): boolean {
  return (
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || isDigit(c) || c === 95 || (allowColon && c === 58)
  );
}

/**
 * Prometheus' rules: metric names `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*`.
 * Each other character (a surrogate pair counts as one) becomes `_`; a leading digit gets a `_`
 * in front when `isStart` (false for the field part of `<measurement>_<field>`).
 */
function sanitizeName(name: string, allowColon: boolean, isStart: boolean): string {
  const leadingDigit = isStart && isDigit(name.charCodeAt(0));
  let valid = !leadingDigit;
  for (let i = 0; valid && i < name.length; i++) valid = isNameChar(name.charCodeAt(i), allowColon);
  if (valid) return name;
  let out = leadingDigit ? '_' : '';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (isNameChar(c, allowColon)) {
      out += name[i];
      continue;
    }
    out += '_';
    const isHighSurrogate = c >= 0xd800 && c <= 0xdbff;
    const next = name.charCodeAt(i + 1);
    if (isHighSurrogate && next >= 0xdc00 && next <= 0xdfff) i++;
  }
  return out;
}

/** Tags sorted by name, so tag order in the line does not matter; of equal names the last in the line wins. */
function canonicalTags(tags: Label[]): Label[] {
  if (tags.length < 2) return tags;
  let sorted = true;
  for (let i = 1; sorted && i < tags.length; i++) sorted = compareNames(tags[i - 1], tags[i]) < 0;
  if (sorted) return tags;
  tags.sort(compareNames); // stable: equal names keep their line order
  const unique: Label[] = [];
  for (const tag of tags) {
    if (unique.length > 0 && unique[unique.length - 1]?.name === tag.name) unique[unique.length - 1] = tag;
    else unique.push(tag);
  }
  return unique;
}

function compareNames(a: Label | undefined, b: Label | undefined): number {
  const x = a?.name ?? '';
  const y = b?.name ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A token of the input for an error detail: JSON-quoted (control characters escaped) and bounded. */
function quote(text: string): string {
  return JSON.stringify(text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text);
}
