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
 * `{measurement}_{field}` and tags become labels
 * (https://docs.victoriametrics.com/victoriametrics/integrations/influxdb/#data-transformations),
 * then names are made Prometheus-valid as VictoriaMetrics' `-usePromCompatibleNaming` does.
 *
 * Speed: one pass of index scanning over the body, no regular expressions on the hot path;
 * sanitized names are memoised per measurement and key position because Telegraf writes the
 * same keys in the same order on every line.
 */
import { rejectPayload, type DecodeResult, type DecodedSeries, type Label } from '../decoded-series.js';

/** Unit of the timestamps in a body, from the `precision` query parameter. */
export type InfluxPrecision = 'ns' | 'us' | 'ms' | 's' | 'm' | 'h';

export interface ParseLineProtocolOptions {
  precision: InfluxPrecision;
  /** Arrival time in ms since epoch, the timestamp of points that carry none. */
  nowMs: number;
  /**
   * Checked while parsing, before names are sanitised and labels built (work that grows
   * with tags x fields): a line past them is refused. Defaults: no limit.
   */
  limits?: { maxLabelsPerSeries: number; maxNameBytes: number; maxLabelBytes?: number };
}

/** Skip reasons, each a metric label on /metrics. */
const SKIP_STRING_FIELD = 'influx_string_field';
/** Tag keys that sanitize to a `__` prefix would clash with `__name__` and Prometheus' reserved labels. */
const SKIP_RESERVED_TAG = 'influx_reserved_tag';

// v1 `/write` also spells them n, u and µ, and has minutes and hours (m, h), which
// VictoriaMetrics takes on both paths. Empty is the default: InfluxDB's Go v1 client always
// sends `precision=`, set or not.
const PRECISION_BY_PARAMETER: ReadonlyMap<string, InfluxPrecision> = new Map<string, InfluxPrecision>([
  ['', 'ns'],
  ['n', 'ns'],
  ['ns', 'ns'],
  ['u', 'us'],
  ['us', 'us'],
  ['µ', 'us'],
  ['ms', 'ms'],
  ['s', 's'],
  ['m', 'm'],
  ['h', 'h'],
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
 * `INGEST_PAYLOAD_INVALID` and a detail naming its (1-based, physical) line. Never throws.
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
const PLUS = 43;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const COLON = 58;
const EQUALS = 61;
const UPPER_E = 69;
const BACKSLASH = 92;
const UNDERSCORE = 95;
const LOWER_E = 101;
const LOWER_I = 105;
const LOWER_U = 117;
const BOM = 0xfeff;

/** Bits of STOP: which ASCII characters end (or need a closer look inside) each kind of token. */
const STOPS_MEASUREMENT = 1;
const STOPS_KEY = 2; // tag keys, tag values, field keys
const STOPS_VALUE = 4; // unquoted field values, timestamps
const STOP = new Uint8Array(128);
for (const c of [COMMA, SPACE, TAB, LF, CR]) STOP[c] = STOPS_MEASUREMENT | STOPS_KEY | STOPS_VALUE;
STOP[BACKSLASH] = STOPS_MEASUREMENT | STOPS_KEY;
STOP[EQUALS] = STOPS_KEY;

const MAX_INT64 = '9223372036854775807';
const MIN_INT64_ABS = '9223372036854775808';
const MAX_UINT64 = '18446744073709551615';
/** Largest |timestamp| per unit: InfluxDB's ±9223372036854775806 ns, truncated to the unit. */
const MAX_TIMESTAMP: Readonly<Record<InfluxPrecision, string>> = {
  ns: '9223372036854775806',
  us: '9223372036854775',
  ms: '9223372036854',
  s: '9223372036',
  m: '153722867',
  h: '2562047',
};
/** Digits dropped to go from the unit to ms (s, m and h multiply instead). */
const DIGITS_BELOW_MS: Readonly<Record<InfluxPrecision, number>> = { ns: 6, us: 3, ms: 0, s: 0, m: 0, h: 0 };
/** Milliseconds per unit of the precisions coarser than ms. */
const MS_PER_UNIT: Readonly<Partial<Record<InfluxPrecision, number>>> = { s: 1_000, m: 60_000, h: 3_600_000 };
const TRUE_LITERALS: ReadonlySet<string> = new Set(['t', 'T', 'true', 'True', 'TRUE']);
const FALSE_LITERALS: ReadonlySet<string> = new Set(['f', 'F', 'false', 'False', 'FALSE']);
/** 10^0 … 10^22, the powers of ten a float64 holds exactly. */
const EXACT_POWERS_OF_TEN = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
  1e19, 1e20, 1e21, 1e22,
];
/** Fields per tag set up to which a linear search beats a Map. */
const MAX_LINEAR_SLOTS = 16;
/** Longest excerpt of the input quoted in an error detail. */
const MAX_QUOTED_CHARS = 64;

/** A key as written (`raw`, still escaped) and its sanitized name. */
interface KeyName {
  raw: string;
  name: string;
}

/** Per raw measurement: `<measurement>_` and the names of the keys last seen at each position. */
interface MeasurementNames {
  raw: string;
  prefix: string;
  /** Tag keys; `name` is the label name. */
  tagKeys: KeyName[];
  /** Field keys; `name` is the whole metric name. */
  fieldKeys: KeyName[];
}

/** The series of one canonical tag set. */
interface TagSetSeries {
  labels: Label[];
  /** Searched linearly while short: cheaper than a Map per tag set, and names are mostly the same objects. */
  slots: SeriesSlot[];
  /** Built once `slots` outgrows MAX_LINEAR_SLOTS. */
  byMetricName: Map<string, SeriesSlot> | undefined;
}

interface SeriesSlot {
  metricName: string;
  series: DecodedSeries;
  /** Index of the point that last added a sample, so a repeated field overwrites instead of appending. */
  lastPoint: number;
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
  private readonly names = new Map<string, MeasurementNames>();
  private lastNames: MeasurementNames | undefined;
  private stringFields = 0;
  private reservedTags = 0;
  // The current point's kept tags and numeric fields, reused from point to point: the
  // timestamp comes last, and labels are only built when a tag set is new.
  private tagCount = 0;
  private readonly tagNames: string[] = [];
  private readonly tagValueStarts: number[] = [];
  private readonly tagValueEnds: number[] = [];
  private fieldCount = 0;
  private readonly fieldNames: string[] = [];
  private readonly fieldValues: number[] = [];
  /** Tags a line may keep: the limit on labels less __name__. */
  private readonly maxTags: number;
  /** In UTF-16 units, a lower bound of the bytes: a name this long is too long in any encoding. */
  private readonly maxNameLength: number;
  /** A series' label names and values together, in UTF-16 units as written (escapes count). */
  private readonly maxLabelLength: number;

  constructor(body: string, options: ParseLineProtocolOptions) {
    this.body = body;
    this.length = body.length;
    this.precision = options.precision;
    this.nowMs = options.nowMs;
    this.maxTags = options.limits ? options.limits.maxLabelsPerSeries - 1 : Number.POSITIVE_INFINITY;
    this.maxNameLength = options.limits?.maxNameBytes ?? Number.POSITIVE_INFINITY;
    this.maxLabelLength = options.limits?.maxLabelBytes ?? Number.POSITIVE_INFINITY;
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
    this.tagCount = 0;
    this.fieldCount = 0;

    const measurementStart = this.pos;
    let i = this.scanName(measurementStart, STOPS_MEASUREMENT);
    if (i === measurementStart) return this.fail('missing measurement');
    if (i - measurementStart > this.maxNameLength) return this.fail(`measurement is longer than ${this.maxNameLength} bytes`);
    const names = this.measurementNames(measurementStart, i);
    const tagsStart = i;

    // Whether the raw tag section is already the canonical tag-set key (see tagSetKey).
    let tagsCanonical = true;
    // Every series of the line carries all its tags: refused here, before fields repeat them.
    let tagsLength = 0;
    let previousName = '';
    for (let position = 0; i < this.length && b.charCodeAt(i) === COMMA; position++) {
      const keyStart = i + 1;
      i = this.scanName(keyStart, STOPS_KEY);
      if (i === keyStart) return this.fail('empty tag key');
      if (i - keyStart > this.maxNameLength) return this.fail(`a tag key is longer than ${this.maxNameLength} bytes`);
      const keyEnd = i;
      if (b.charCodeAt(i) !== EQUALS) return this.fail(`tag ${this.quoteKey(keyStart, keyEnd)} is missing "="`);
      const valueStart = i + 1;
      i = this.scanName(valueStart, STOPS_KEY);
      if (b.charCodeAt(i) === EQUALS) {
        return this.fail(`tag ${this.quoteKey(keyStart, keyEnd)} has an unescaped "=" in its value`);
      }
      // InfluxDB does not allow empty tag values; a tag with none is treated as absent.
      if (i === valueStart) {
        tagsCanonical = false;
        continue;
      }
      const key = this.keyName(names.tagKeys, position, keyStart, keyEnd, '');
      const name = key.name;
      if (name.charCodeAt(0) === UNDERSCORE && name.charCodeAt(1) === UNDERSCORE) {
        this.reservedTags++;
        tagsCanonical = false;
        continue;
      }
      if (key.raw !== name || name <= previousName) tagsCanonical = false;
      previousName = name;
      if (this.tagCount >= this.maxTags) return this.fail(`more than ${this.maxTags} tags (the limit on labels is ${this.maxTags + 1}, the metric name included)`);
      tagsLength += keyEnd - keyStart + (i - valueStart);
      if (tagsLength > this.maxLabelLength) return this.fail(`its tags are longer than ${this.maxLabelLength} bytes in all`);
      this.tagNames[this.tagCount] = name;
      this.tagValueStarts[this.tagCount] = valueStart;
      this.tagValueEnds[this.tagCount] = i;
      this.tagCount++;
    }
    const tagsEnd = i;

    i = this.skipBlanks(i);
    if (this.isLineEnd(i)) return this.fail('missing fields');

    for (let position = 0; ; position++) {
      const keyStart = i;
      i = this.scanName(keyStart, STOPS_KEY);
      if (i === keyStart) return this.fail('empty field key');
      if (i - keyStart > this.maxNameLength) return this.fail(`a field key is longer than ${this.maxNameLength} bytes`);
      const keyEnd = i;
      // The series' labels: its tags, and __name__ = measurement_field.
      if (tagsLength + (tagsStart - measurementStart) + (keyEnd - keyStart) + '__name___'.length > this.maxLabelLength) {
        return this.fail(`the labels of field ${this.quoteKey(keyStart, keyEnd)} are longer than ${this.maxLabelLength} bytes in all`);
      }
      if (b.charCodeAt(i) !== EQUALS) return this.fail(`field ${this.quoteKey(keyStart, keyEnd)} is missing "="`);
      i++;
      if (b.charCodeAt(i) === QUOTE) {
        i = this.skipString(i);
        if (i < 0) return this.fail(`unterminated string in field ${this.quoteKey(keyStart, keyEnd)}`);
        if (!this.isSeparator(i)) {
          return this.fail(`unexpected text after the string in field ${this.quoteKey(keyStart, keyEnd)}`);
        }
        this.stringFields++;
      } else {
        const valueStart = i;
        i = this.scanValue(valueStart);
        if (i === valueStart) return this.fail(`field ${this.quoteKey(keyStart, keyEnd)} has no value`);
        const value = this.parseFieldValue(valueStart, i);
        if (value === undefined) return false;
        this.fieldNames[this.fieldCount] = this.keyName(names.fieldKeys, position, keyStart, keyEnd, names.prefix).name;
        this.fieldValues[this.fieldCount] = value;
        this.fieldCount++;
      }
      if (b.charCodeAt(i) !== COMMA) break;
      i++;
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
      if (!this.isLineEnd(i)) return this.fail(`unexpected text after the timestamp: ${quote(this.restOfLine(i))}`);
    }
    this.pos = i;
    this.consumeLineEnd();

    if (this.fieldCount > 0) {
      const rawTags = b.slice(tagsStart, tagsEnd);
      this.addSamples(tagsCanonical && !rawTags.includes('\\') ? rawTags : null, timestampMs);
    }
    return true;
  }

  /**
   * Adds the current point's numeric fields as samples. `canonicalKey` is the raw tag section when
   * it already is the canonical key, null when the key has to be built from sorted labels.
   */
  private addSamples(canonicalKey: string | null, timestampMs: number): void {
    let labels: Label[] | undefined;
    let tagKey = canonicalKey;
    if (tagKey === null) {
      labels = canonicalTags(this.currentTags());
      tagKey = tagSetKey(labels);
    }
    let tagSet = this.tagSets.get(tagKey);
    if (tagSet === undefined) {
      tagSet = { labels: labels ?? this.currentTags(), slots: [], byMetricName: undefined };
      this.tagSets.set(tagKey, tagSet);
    }
    for (let k = 0; k < this.fieldCount; k++) {
      const metricName = this.fieldNames[k] ?? '';
      const value = this.fieldValues[k] ?? 0;
      const slot = findSlot(tagSet, metricName);
      if (slot === undefined) {
        const series: DecodedSeries = {
          labels: [{ name: '__name__', value: metricName }, ...tagSet.labels],
          timestampsMs: [timestampMs],
          values: [value],
        };
        addSlot(tagSet, { metricName, series, lastPoint: this.pointIndex });
        this.series.push(series);
      } else if (slot.lastPoint === this.pointIndex || slot.series.timestampsMs[slot.series.timestampsMs.length - 1] === timestampMs) {
        // Same field (or two keys sanitizing alike) twice in one point, or the same series and
        // time on the next line (lines without timestamps): the last one wins, as in InfluxDB.
        slot.lastPoint = this.pointIndex;
        slot.series.values[slot.series.values.length - 1] = value;
      } else {
        slot.lastPoint = this.pointIndex;
        slot.series.timestampsMs.push(timestampMs);
        slot.series.values.push(value);
      }
    }
  }

  /** The current point's kept tags as labels, in line order. */
  private currentTags(): Label[] {
    const labels: Label[] = [];
    for (let t = 0; t < this.tagCount; t++) {
      const start = this.tagValueStarts[t] ?? 0;
      const end = this.tagValueEnds[t] ?? 0;
      labels.push({ name: this.tagNames[t] ?? '', value: detach(unescapeToken(this.body.slice(start, end), true)) });
    }
    return labels;
  }

  /** Names of the measurement at [start, end): the previous line's when the text is the same. */
  private measurementNames(start: number, end: number): MeasurementNames {
    const last = this.lastNames;
    if (last !== undefined && last.raw.length === end - start && this.body.startsWith(last.raw, start)) return last;
    const raw = this.body.slice(start, end);
    let names = this.names.get(raw);
    if (names === undefined) {
      const prefix = `${sanitizeName(unescapeToken(raw, false), true, true)}_`;
      names = { raw, prefix, tagKeys: [], fieldKeys: [] };
      this.names.set(raw, names);
    }
    this.lastNames = names;
    return names;
  }

  /**
   * The key at [start, end), remembered per position: on a hit no string is built, and the same
   * name object comes back, whose hash V8 has already computed for the map lookups that follow.
   * Metric names (`metricPrefix` set) may hold ":", label names may not.
   */
  private keyName(memo: KeyName[], position: number, start: number, end: number, metricPrefix: string): KeyName {
    const known = memo[position];
    if (known !== undefined && known.raw.length === end - start && this.body.startsWith(known.raw, start)) {
      return known;
    }
    const raw = this.body.slice(start, end);
    const key = unescapeToken(raw, true);
    const name = detach(metricPrefix === '' ? sanitizeName(key, false, true) : metricPrefix + sanitizeName(key, true, false));
    const fresh: KeyName = { raw, name };
    memo[position] = fresh;
    return fresh;
  }

  /**
   * End of a measurement (`stops` STOPS_MEASUREMENT) or of a tag key, tag value or field key
   * (STOPS_KEY): the first unescaped comma, space, tab or line end, and for keys the first "=".
   */
  private scanName(start: number, stops: number): number {
    const b = this.body;
    const n = this.length;
    let i = start;
    while (i < n) {
      const c = b.charCodeAt(i);
      if (c >= 128 || ((STOP[c] ?? 0) & stops) === 0) {
        i++;
      } else if (c === BACKSLASH) {
        i += i + 1 < n && isEscapable(b.charCodeAt(i + 1), stops === STOPS_KEY) ? 2 : 1;
      } else if (c === CR && !this.isLineEnd(i)) {
        i++;
      } else {
        break;
      }
    }
    return i;
  }

  /** End of an unquoted field value or timestamp: comma, space, tab or line end. */
  private scanValue(start: number): number {
    const b = this.body;
    const n = this.length;
    let i = start;
    while (i < n) {
      const c = b.charCodeAt(i);
      if (c >= 128 || ((STOP[c] ?? 0) & STOPS_VALUE) === 0 || (c === CR && !this.isLineEnd(i))) i++;
      else break;
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
    if (exceeds(b, i, end, unsigned ? MAX_UINT64 : negative ? MIN_INT64_ABS : MAX_INT64)) {
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
    const msPerUnit = MS_PER_UNIT[this.precision];
    if (msPerUnit !== undefined) {
      ms = digitsValue(b, i, end) * msPerUnit;
    } else {
      // Drop the sub-millisecond digits; at most 13 digits remain, far below 2^53.
      const wholeEnd = Math.max(i, end - DIGITS_BELOW_MS[this.precision]);
      ms = digitsValue(b, i, wholeEnd);
      if (negative && !allZeros(b, wholeEnd, end)) ms += 1; // floor, not truncation, below zero
    }
    return negative && ms !== 0 ? -ms : ms;
  }

  private fail(detail: string): false {
    this.error = detail;
    return false;
  }

  private quoteKey(start: number, end: number): string {
    return quote(unescapeToken(this.body.slice(start, end), true));
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

  /** After a string field value: another field, the timestamp's separator, or the line end. */
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

  private restOfLine(start: number): string {
    const lf = this.body.indexOf('\n', start);
    return this.body.slice(start, lf === -1 ? this.length : lf);
  }
}

/**
 * A copy of `text` sharing no memory with the body. V8 keeps slices (and concatenations) as
 * views of their parent, and the series registry keeps labels for as long as a series lives:
 * without this, each retained label would keep its whole request body alive. Only names and
 * labels of new series pass here, so the copy is cheap.
 */
function detach(text: string): string {
  // Concatenating then slicing flattens into a fresh string; the slice then views that copy.
  return ` ${text}`.slice(1);
}

/** In keys and tag values a backslash escapes `,`, `=`, space and itself; in measurements not `=`. */
function isEscapable(c: number, keyLike: boolean): boolean {
  return c === COMMA || c === SPACE || c === BACKSLASH || (keyLike && c === EQUALS);
}

/** The text of a raw (escaped) measurement, key or tag value. */
function unescapeToken(raw: string, keyLike: boolean): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  let from = 0;
  for (let i = 0; i < raw.length - 1; i++) {
    if (raw.charCodeAt(i) === BACKSLASH && isEscapable(raw.charCodeAt(i + 1), keyLike)) {
      out += raw.slice(from, i);
      from = i + 1;
      i++;
    }
  }
  return out + raw.slice(from);
}

function isDigit(c: number): boolean {
  return c >= DIGIT_0 && c <= DIGIT_9;
}

function allDigits(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

function allZeros(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (s.charCodeAt(i) !== DIGIT_0) return false;
  return true;
}

/** Value of the decimal digits s[start, end); exact while below 2^53 (always, up to 15 digits). */
function digitsValue(s: string, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + (s.charCodeAt(i) - DIGIT_0);
  return value;
}

/** Whether the digits s[start, end) (no leading zeros) exceed the decimal `limit`. */
function exceeds(s: string, start: number, end: number, limit: string): boolean {
  const length = end - start;
  if (length !== limit.length) return length > limit.length;
  return s.slice(start, end) > limit;
}

/**
 * `-?digits[.digits]` with at most 15 digits, without building a string: digits and power of ten
 * are exact doubles, so one division is correctly rounded (Clinger's fast path) and equals
 * Number(). Undefined for anything else (exponents, longer mantissas, malformed text).
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

/** Line protocol floats: `-?(digits[.digits]|.digits)([eE][+-]?digits)?`; no NaN, Inf or leading `+`. */
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
  if (sign === MINUS || sign === PLUS) i++;
  return i < end && allDigits(s, i, end);
}

function isNameChar(c: number, allowColon: boolean): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || isDigit(c) || c === UNDERSCORE || (allowColon && c === COLON);
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
    const next = name.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
  }
  return out;
}

function findSlot(tagSet: TagSetSeries, metricName: string): SeriesSlot | undefined {
  if (tagSet.byMetricName !== undefined) return tagSet.byMetricName.get(metricName);
  for (const slot of tagSet.slots) if (slot.metricName === metricName) return slot;
  return undefined;
}

function addSlot(tagSet: TagSetSeries, slot: SeriesSlot): void {
  tagSet.slots.push(slot);
  if (tagSet.byMetricName !== undefined) {
    tagSet.byMetricName.set(slot.metricName, slot);
  } else if (tagSet.slots.length > MAX_LINEAR_SLOTS) {
    tagSet.byMetricName = new Map(tagSet.slots.map((s) => [s.metricName, s]));
  }
}

/** Tags sorted by name, so tag order in the line does not matter; of equal names the last in the line wins. */
function canonicalTags(tags: Label[]): Label[] {
  tags.sort(compareNames); // stable: equal names keep their line order
  const unique: Label[] = [];
  for (const tag of tags) {
    if (unique.length > 0 && unique[unique.length - 1]?.name === tag.name) unique[unique.length - 1] = tag;
    else unique.push(tag);
  }
  return unique;
}

function compareNames(a: Label, b: Label): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * The key of a canonical tag set: `,name=value` per tag with `\`, `,` and `=` escaped in values
 * (names are [a-zA-Z0-9_]). A raw tag section that is sorted, escape-free and has valid names is
 * byte-identical to it, which lets the parser use such a section as it is.
 */
function tagSetKey(tags: Label[]): string {
  let key = '';
  for (const tag of tags) key += `,${tag.name}=${escapeTagValue(tag.value)}`;
  return key;
}

function escapeTagValue(value: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === BACKSLASH || c === COMMA || c === EQUALS) {
      out += `${value.slice(from, i)}\\`;
      from = i;
    }
  }
  return out === '' ? value : out + value.slice(from);
}

/** A token of the input for an error detail: JSON-quoted (control characters escaped) and bounded. */
function quote(text: string): string {
  return JSON.stringify(text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text);
}
