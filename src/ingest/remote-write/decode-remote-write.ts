import type { Label } from '../decoded-series.js';
import { SampleBatchBuilder, type SampleBatch } from '../sample-batch.js';
import type { SeriesEntry, SeriesRegistry } from '../series-registry.js';
import { LABEL_NAME, METRIC_NAME, OLDER_THAN_RETENTION } from '../validate-series.js';

/**
 * Remote-write 1.0 decoder (prompb WriteRequest), hand-written for speed: samples go straight
 * into RowBinary rows, and a series is recognised by the raw bytes of its label fields, so
 * label strings are decoded and validated only the first time a series is seen
 * (research/ingest.md §5.1: ~2x protobufjs). Never throws on any input.
 *
 *   WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
 *   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; exemplars = 3; histograms = 4 }
 *   Label        { string name = 1; string value = 2; }
 *   Sample       { double value = 1; int64 timestamp = 2; }
 */

export interface RemoteWriteLimits {
  maxLabelsPerSeries: number;
  maxLabelValueBytes: number;
  /** Label names and values of a series together, in bytes. */
  maxLabelBytesPerSeries: number;
  /** Samples later than this (ms since epoch) are refused, as Prometheus refuses >10 min ahead. */
  maxTimestampMs: number;
  /**
   * Samples earlier than this are refused: past the longest retention (raw samples or
   * rollups), storing them would only acknowledge what every TTL drops at once (Prometheus'
   * receiver refuses samples out of its head's bounds with 400 too).
   */
  minTimestampMs: number;
}

export type RemoteWriteResult =
  | { ok: true; batch: SampleBatch; seriesCount: number; skipped: Record<string, number> }
  | { ok: false; detail: string };

class DecodeFailure extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** A sample is at least tag+len (2) + double (9) + timestamp tag and one varint byte (2). */
const MIN_SAMPLE_BYTES = 13;
const TWO_POW_53 = 2 ** 53;

export function decodeRemoteWrite(body: Buffer, registry: SeriesRegistry, limits: RemoteWriteLimits): RemoteWriteResult {
  const builder = new SampleBatchBuilder(Math.floor(body.length / MIN_SAMPLE_BYTES) + 1, 'prometheus');
  const skipped: Record<string, number> = {};
  let seriesCount = 0;
  try {
    let pos = 0;
    const end = body.length;
    while (pos < end) {
      const tag = body[pos++]!;
      if (tag === 0x0a) {
        const length = readLength(body, pos, end);
        pos = varintEnd;
        const seriesEnd = pos + length;
        if (seriesEnd > end) throw new DecodeFailure(`timeseries[${seriesCount}]: length ${length} runs past the end of the body`);
        decodeTimeSeries(body, pos, seriesEnd, seriesCount, registry, limits, builder, skipped);
        seriesCount++;
        pos = seriesEnd;
      } else {
        // metadata (3) and anything newer are skipped, as the spec allows.
        pos = skipField(body, pos, end, tag, 'WriteRequest', FIELDS_1);
      }
    }
  } catch (error) {
    if (error instanceof DecodeFailure) return { ok: false, detail: error.message };
    return { ok: false, detail: `malformed protobuf: ${(error as Error).message}` };
  } finally {
    registry.releaseBytes();
  }
  return { ok: true, batch: builder.build(), seriesCount, skipped };
}

// Set by readVarint: the position after the varint it read. Avoids allocating a tuple per call.
let varintEnd = 0;

/**
 * A field length: nearly always one byte (labels and samples are short), read here so the
 * hot loops do not call the general reader.
 */
function readLength(buf: Buffer, pos: number, end: number): number {
  if (pos < end) {
    const byte = buf[pos]!;
    if (byte < 0x80) {
      varintEnd = pos + 1;
      return byte;
    }
  }
  return readVarint(buf, pos, end);
}

/** Reads an unsigned varint of up to 64 bits into a double (exact below 2^53). */
function readVarint(buf: Buffer, start: number, end: number): number {
  let pos = start;
  let result = 0;
  let multiplier = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new DecodeFailure('truncated varint');
    const byte = buf[pos++]!;
    result += (byte & 0x7f) * multiplier;
    if (byte < 0x80) {
      varintEnd = pos;
      return result;
    }
    multiplier *= 128;
  }
  throw new DecodeFailure('varint longer than 10 bytes');
}

/** Field numbers a message's decoder reads, as bits for skipField: WriteRequest reads 1; TimeSeries, Label and Sample read 1 and 2. */
const FIELDS_1 = 1 << 1;
const FIELDS_1_2 = (1 << 1) | (1 << 2);

function skipField(buf: Buffer, pos: number, end: number, tag: number, message: string, readFields: number): number {
  // The tag itself may be a multi-byte varint; `pos` is just past its first byte.
  let key = tag;
  let p = pos;
  if (tag >= 0x80) {
    key = readVarint(buf, pos - 1, end);
    p = varintEnd;
  }
  const wireType = key & 7;
  const fieldNumber = Math.floor(key / 8);
  if (fieldNumber === 0) throw new DecodeFailure(`${message}: field number 0 is invalid`);
  // A field the decoder reads, reaching here, came with another wire type or a longer tag
  // than the one-byte tags it matches: skipping it would store the series wrong, silently.
  if (fieldNumber < 31 && (readFields & (1 << fieldNumber)) !== 0) {
    throw new DecodeFailure(`${message}: field ${fieldNumber} is encoded as Vigil does not read it (wire type ${wireType}${tag >= 0x80 ? ', a tag of more than one byte' : ''})`);
  }
  switch (wireType) {
    case 0:
      readVarint(buf, p, end);
      return varintEnd;
    case 1:
      if (p + 8 > end) throw new DecodeFailure(`${message}: truncated fixed64 field ${fieldNumber}`);
      return p + 8;
    case 2: {
      const length = readVarint(buf, p, end);
      if (varintEnd + length > end) throw new DecodeFailure(`${message}: field ${fieldNumber} length ${length} runs past its message`);
      return varintEnd + length;
    }
    case 5:
      if (p + 4 > end) throw new DecodeFailure(`${message}: truncated fixed32 field ${fieldNumber}`);
      return p + 4;
    default:
      throw new DecodeFailure(`${message}: unsupported wire type ${wireType} for field ${fieldNumber}`);
  }
}

function decodeTimeSeries(
  body: Buffer,
  start: number,
  end: number,
  index: number,
  registry: SeriesRegistry,
  limits: RemoteWriteLimits,
  builder: SampleBatchBuilder,
  skipped: Record<string, number>,
): void {
  // First pass: where the labels are, and whether they are contiguous (Prometheus always
  // writes all labels before the samples; anything else gets a concatenated key).
  let labelsStart = -1;
  let labelsEnd = -1;
  let contiguous = true;
  let firstSample = -1;
  let pos = start;
  while (pos < end) {
    const fieldStart = pos;
    const tag = body[pos++]!;
    if (tag === 0x0a) {
      const length = readLength(body, pos, end);
      const next = varintEnd + length;
      if (next > end) throw new DecodeFailure(`timeseries[${index}]: label length ${length} runs past the series`);
      if (labelsStart < 0) labelsStart = fieldStart;
      else if (labelsEnd !== fieldStart) contiguous = false;
      labelsEnd = next;
      pos = next;
    } else if (tag === 0x12) {
      if (firstSample < 0) firstSample = fieldStart;
      const length = readLength(body, pos, end);
      pos = varintEnd + length;
      if (pos > end) throw new DecodeFailure(`timeseries[${index}]: sample length ${length} runs past the series`);
    } else if (tag === 0x22) {
      skipped.native_histogram = (skipped.native_histogram ?? 0) + 1;
      pos = skipField(body, pos, end, tag, `timeseries[${index}]`, FIELDS_1_2);
    } else {
      pos = skipField(body, pos, end, tag, `timeseries[${index}]`, FIELDS_1_2);
    }
  }
  if (labelsStart < 0) throw new DecodeFailure(`timeseries[${index}]: no labels; every series needs at least __name__`);
  let entry: SeriesEntry | undefined;
  if (contiguous) {
    entry = registry.getByBytes(body, labelsStart, labelsEnd);
    entry ??= registry.addByBytes(body, labelsStart, labelsEnd, decodeAndValidateLabels(body, labelFieldRanges(body, start, end), index, limits));
  } else {
    const labelRanges = labelFieldRanges(body, start, end);
    let key = '';
    for (let i = 0; i < labelRanges.length; i += 2) key += body.toString('latin1', labelRanges[i]!, labelRanges[i + 1]!);
    entry = registry.get(key) ?? registry.add(key, decodeAndValidateLabels(body, labelRanges, index, limits));
  }
  if (firstSample < 0) return;

  // Second pass: samples.
  pos = firstSample;
  let sampleIndex = 0;
  while (pos < end) {
    const tag = body[pos++]!;
    if (tag === 0x12) {
      const length = readLength(body, pos, end);
      const sampleStart = varintEnd;
      const sampleEnd = sampleStart + length;
      decodeSample(body, sampleStart, sampleEnd, entry, index, sampleIndex++, limits, builder);
      pos = sampleEnd;
    } else if (tag === 0x0a) {
      const length = readLength(body, pos, end);
      pos = varintEnd + length;
    } else {
      pos = skipField(body, pos, end, tag, `timeseries[${index}]`, FIELDS_1_2);
    }
  }
}

/**
 * [start, end) of every label field of a series, in order. Only for series not recognised by
 * their bytes (new, or labels interleaved with samples): the hot path allocates nothing.
 * The series was already scanned once, so its fields are known to be well-formed.
 */
function labelFieldRanges(body: Buffer, start: number, end: number): number[] {
  const ranges: number[] = [];
  let pos = start;
  while (pos < end) {
    const fieldStart = pos;
    const tag = body[pos++]!;
    if (tag === 0x0a || tag === 0x12) {
      const length = readLength(body, pos, end);
      pos = varintEnd + length;
      if (tag === 0x0a) ranges.push(fieldStart, pos);
    } else {
      pos = skipField(body, pos, end, tag, 'series', FIELDS_1_2);
    }
  }
  return ranges;
}

function decodeSample(
  body: Buffer,
  start: number,
  end: number,
  entry: SeriesEntry,
  seriesIndex: number,
  sampleIndex: number,
  limits: RemoteWriteLimits,
  builder: SampleBatchBuilder,
): void {
  let valueOffset = -1;
  let timestamp = 0;
  let pos = start;
  while (pos < end) {
    const tag = body[pos++]!;
    if (tag === 0x09) {
      if (pos + 8 > end) throw new DecodeFailure(`timeseries[${seriesIndex}].samples[${sampleIndex}]: truncated value`);
      valueOffset = pos;
      pos += 8;
    } else if (tag === 0x10) {
      timestamp = readVarint(body, pos, end);
      pos = varintEnd;
    } else {
      pos = skipField(body, pos, end, tag, `timeseries[${seriesIndex}].samples[${sampleIndex}]`, FIELDS_1_2);
    }
  }
  // A negative int64 arrives as a 10-byte varint >= 2^63, so this catches it too.
  if (timestamp >= TWO_POW_53) throw new DecodeFailure(`timeseries[${seriesIndex}].samples[${sampleIndex}]: timestamp out of range (negative or beyond year 287396)`);
  if (timestamp > limits.maxTimestampMs) {
    throw new DecodeFailure(
      `timeseries[${seriesIndex}].samples[${sampleIndex}]: timestamp ${describeTime(timestamp)} is too far in the future (series ${describeSeries(entry)})`,
    );
  }
  if (timestamp < limits.minTimestampMs) {
    throw new DecodeFailure(
      `timeseries[${seriesIndex}].samples[${sampleIndex}]: timestamp ${describeTime(timestamp)} ${OLDER_THAN_RETENTION} (${describeTime(limits.minTimestampMs)}) and would be dropped at once (series ${describeSeries(entry)})`,
    );
  }
  if (valueOffset < 0) builder.addSample(entry, timestamp, 0); // proto3 default: absent double is 0
  else builder.addSampleRawValue(entry, timestamp, body, valueOffset);
}

/** A time in ms as ISO 8601, or as the number where Date cannot show it (past year 275760). */
function describeTime(ms: number): string {
  return ms <= MAX_DATE_MS ? new Date(ms).toISOString() : `${ms} ms`;
}

const MAX_DATE_MS = 8.64e15;

function describeSeries(entry: SeriesEntry): string {
  return `${entry.metricName}{${entry.labels.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(',')}}`;
}

/** Decodes a new series' labels and checks the remote-write 1.0 rules on them. */
function decodeAndValidateLabels(body: Buffer, ranges: number[], index: number, limits: RemoteWriteLimits): Label[] {
  const labels: Label[] = [];
  let labelBytes = 0;
  for (let i = 0; i < ranges.length; i += 2) {
    const start = ranges[i]!;
    const end = ranges[i + 1]!;
    readVarint(body, start + 1, end); // skip the field's own length
    let pos = varintEnd;
    let name = '';
    let value = '';
    while (pos < end) {
      const tag = body[pos++]!;
      if (tag === 0x0a || tag === 0x12) {
        const length = readLength(body, pos, end);
        const textEnd = varintEnd + length;
        if (textEnd > end) throw new DecodeFailure(`timeseries[${index}].labels[${labels.length}]: string runs past the label`);
        if (length > limits.maxLabelValueBytes) {
          throw new DecodeFailure(`timeseries[${index}].labels[${labels.length}]: ${tag === 0x0a ? 'name' : 'value'} is ${length} bytes, the limit is ${limits.maxLabelValueBytes}`);
        }
        labelBytes += length;
        if (labelBytes > limits.maxLabelBytesPerSeries) {
          throw new DecodeFailure(`timeseries[${index}]: its labels are longer than ${limits.maxLabelBytesPerSeries} bytes in all`);
        }
        let text: string;
        try {
          text = utf8.decode(body.subarray(varintEnd, textEnd));
        } catch {
          throw new DecodeFailure(`timeseries[${index}].labels[${labels.length}]: ${tag === 0x0a ? 'name' : 'value'} is not valid UTF-8`);
        }
        if (tag === 0x0a) name = text;
        else value = text;
        pos = textEnd;
      } else {
        pos = skipField(body, pos, end, tag, `timeseries[${index}].labels[${labels.length}]`, FIELDS_1_2);
      }
    }
    labels.push({ name, value });
  }
  const where = `timeseries[${index}]`;
  if (labels.length > limits.maxLabelsPerSeries) throw new DecodeFailure(`${where}: ${labels.length} labels, the limit is ${limits.maxLabelsPerSeries}`);
  let metricName: string | undefined;
  let sorted = true;
  let emptyValues = 0;
  for (let i = 0; i < labels.length; i++) {
    const { name, value } = labels[i]!;
    if (name === '') throw new DecodeFailure(`${where}.labels[${i}]: empty label name`);
    if (!LABEL_NAME.test(name)) throw new DecodeFailure(`${where}: label name ${JSON.stringify(name)} is not a valid Prometheus label name`);
    if (value === '') emptyValues++;
    if (i > 0 && labels[i - 1]!.name >= name) sorted = false;
    if (name === '__name__') metricName = value;
  }
  // Remote-write 1.0 asks senders for sorted labels without empty values; Prometheus' own
  // receiver sorts them and reads an empty value as no label, and vmagent forwards pushed
  // Influx or text-format series unsorted. Taken as Prometheus takes them.
  const kept = emptyValues === 0 ? labels : labels.filter((l) => l.value !== '');
  if (!sorted) kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < kept.length; i++) {
    if (kept[i - 1]!.name === kept[i]!.name) throw new DecodeFailure(`${where}: label ${kept[i]!.name} appears twice`);
  }
  if (metricName === undefined || metricName === '') throw new DecodeFailure(`${where}: no __name__ label`);
  if (!METRIC_NAME.test(metricName)) throw new DecodeFailure(`${where}: metric name ${JSON.stringify(metricName)} is not a valid Prometheus metric name`);
  return kept;
}
