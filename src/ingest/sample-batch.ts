import { column, completeRowsLength, rowBinaryLayout } from '../storage/row-binary.js';
import { dayOfMs, MS_PER_DAY, type SeriesEntry } from './series-registry.js';

/** Bytes of one sample row in RowBinary: series_id UInt64, ts DateTime64(3) as Int64 ms, value Float64. */
export const SAMPLE_ROW_BYTES = 24;
/** A sample row (SAMPLE_ROW_BYTES), as the write-ahead log's segments hold them. */
export const SAMPLE_ROW_LAYOUT = rowBinaryLayout('sample-1', [column.uint64('series_id'), column.time('ts'), column.float64('value')]);
/** A series row, in the column order of metric_series_v1. */
export const SERIES_ROW_LAYOUT = rowBinaryLayout('series-1', [column.date('day'), column.uint64('series_id'), column.string('metric_name'), column.stringMap('labels'), column.string('source')]);

/**
 * One request's rows, already in RowBinary, ready for the writer to append to a segment.
 * A request's batch is built completely before anything is queued: all or nothing.
 */
export interface SampleBatch {
  readonly samples: Buffer;
  readonly sampleCount: number;
  readonly seriesRows: Buffer;
  readonly seriesCount: number;
  /** Series rows in this batch; marked committed for their day once the batch is stored. */
  readonly newSeries: ReadonlyArray<{ entry: SeriesEntry; day: number }>;
}

const TWO_POW_32 = 4_294_967_296;
/** 96 kB: Prometheus sends up to 2,000 samples a request by default (max_samples_per_send). */
const INITIAL_MAX_SAMPLES = 4096;

/** allocUnsafeSlow: an ArrayBuffer of its own at offset 0, so the word view is aligned. */
function rowBuffer(samples: number): Buffer {
  return Buffer.allocUnsafeSlow(samples * SAMPLE_ROW_BYTES);
}

function wordsOf(buffer: Buffer): Uint32Array {
  return new Uint32Array(buffer.buffer, buffer.byteOffset, buffer.length >>> 2);
}

/**
 * Builds a SampleBatch. Starts at the caller's expected sample count (capped) and doubles
 * when full: remote_write can only give an upper bound (body bytes / 13), ~10x the real
 * count, and a buffer that size per request made external-memory GCs (measured).
 */
export class SampleBatchBuilder {
  private samples: Buffer;
  /** Word view of `samples` (rows are 8-byte aligned): plain stores beat Buffer.writeUInt32LE's checks. */
  private words: Uint32Array;

  private sampleCount = 0;
  /** Series rows (SERIES_ROW_LAYOUT), one after another. */
  private series = Buffer.alloc(0);
  private seriesUsed = 0;
  private readonly sourceBytes: Buffer;
  private readonly queuedSeries = new Map<SeriesEntry, number>();
  private readonly newSeries: { entry: SeriesEntry; day: number }[] = [];
  /** Day of the last sample (days since epoch) and where it starts, so most samples skip the division. */
  private day = 0;
  private dayStartMs = Number.POSITIVE_INFINITY;
  /** Values are copied from one request body after another: its view is made once. */
  private viewedSource: Buffer | null = null;
  private sourceView: DataView | null = null;

  constructor(expectedSamples: number, source: string) {
    this.sourceBytes = sourceBytesOf(source);
    this.samples = rowBuffer(Math.min(Math.max(16, Math.ceil(expectedSamples)), INITIAL_MAX_SAMPLES));
    this.words = wordsOf(this.samples);
  }

  /** Appends a sample whose value is given as a number (NaN payload bits are not preserved). */
  addSample(entry: SeriesEntry, timestampMs: number, value: number): void {
    const offset = this.beginRow(entry, timestampMs) + 16;
    this.samples.writeDoubleLE(value, offset);
    // V8 sets the quiet bit of a signalling NaN held in a number, turning Prometheus' stale
    // marker 0x7ff0000000000002 into 0x7ff8000000000002: restore it.
    if (value !== value && this.samples.readUInt32LE(offset) === 2) this.samples.writeUInt32LE(0x7ff00000, offset + 4);
  }

  /**
   * Appends a sample whose value is 8 little-endian IEEE-754 bytes at `source[valueOffset]`:
   * copied bit for bit, so the stale-marker NaN (0x7ff0000000000002) survives.
   */
  addSampleRawValue(entry: SeriesEntry, timestampMs: number, source: Buffer, valueOffset: number): void {
    const word = (this.beginRow(entry, timestampMs) + 16) >>> 2;
    if (source !== this.viewedSource) {
      this.viewedSource = source;
      this.sourceView = new DataView(source.buffer, source.byteOffset, source.byteLength);
    }
    // Two integer words, not a double: a number would quiet a signalling NaN.
    this.words[word] = this.sourceView!.getUint32(valueOffset, true);
    this.words[word + 1] = this.sourceView!.getUint32(valueOffset + 4, true);
  }

  private beginRow(entry: SeriesEntry, timestampMs: number): number {
    const offset = this.sampleCount * SAMPLE_ROW_BYTES;
    if (offset >= this.samples.length) this.grow();
    const word = offset >>> 2;
    const words = this.words;
    // Little-endian words: this code assumes a little-endian host (x86-64, arm64).
    words[word] = entry.idLow;
    words[word + 1] = entry.idHigh;
    // Timestamps are validated non-negative integers below 2^53 before they get here.
    // Split without `%`: a float modulo is a libm call, and this runs once per sample.
    const high = Math.floor(timestampMs / TWO_POW_32);
    words[word + 2] = timestampMs - high * TWO_POW_32;
    words[word + 3] = high;
    this.sampleCount++;
    // Samples of a request nearly always share a day: compare with its bounds, divide only on a change.
    if (timestampMs < this.dayStartMs || timestampMs >= this.dayStartMs + MS_PER_DAY) {
      this.day = dayOfMs(timestampMs);
      this.dayStartMs = this.day * MS_PER_DAY;
    }
    const day = this.day;
    if (entry.committedDay !== day && this.queuedSeries.get(entry) !== day) this.queueSeriesRow(entry, day);
    return offset;
  }

  private grow(): void {
    const larger = rowBuffer((this.samples.length / SAMPLE_ROW_BYTES) * 2);
    this.samples.copy(larger);
    this.samples = larger;
    this.words = wordsOf(larger);
  }

  private queueSeriesRow(entry: SeriesEntry, day: number): void {
    this.queuedSeries.set(entry, day);
    this.newSeries.push({ entry, day });
    // One pass to size the row, one to write it: new series come 10,000 at a time when a
    // sender starts, and a Buffer per field made them the slowest part of its first requests.
    const nameBytes = Buffer.byteLength(entry.metricName);
    let length = 10 + varintLength(nameBytes) + nameBytes + varintLength(entry.labels.length);
    for (const { name, value } of entry.labels) {
      const n = Buffer.byteLength(name);
      const v = Buffer.byteLength(value);
      length += varintLength(n) + n + varintLength(v) + v;
    }
    length += varintLength(this.sourceBytes.length) + this.sourceBytes.length;
    if (this.seriesUsed + length > this.series.length) {
      const larger = Buffer.allocUnsafe(Math.max(this.series.length * 2, this.seriesUsed + length, 4096));
      this.series.copy(larger, 0, 0, this.seriesUsed);
      this.series = larger;
    }
    const out = this.series;
    let at = this.seriesUsed;
    out.writeUInt16LE(day, at);
    out.writeUInt32LE(entry.idLow, at + 2);
    out.writeUInt32LE(entry.idHigh, at + 6);
    at = writeString(out, at + 10, entry.metricName, nameBytes);
    at = writeVarint(out, at, entry.labels.length);
    for (const { name, value } of entry.labels) {
      at = writeString(out, at, name, Buffer.byteLength(name));
      at = writeString(out, at, value, Buffer.byteLength(value));
    }
    at = writeVarint(out, at, this.sourceBytes.length);
    this.sourceBytes.copy(out, at);
    this.seriesUsed = at + this.sourceBytes.length;
  }

  build(): SampleBatch {
    return {
      samples: this.samples.subarray(0, this.sampleCount * SAMPLE_ROW_BYTES),
      sampleCount: this.sampleCount,
      seriesRows: this.series.subarray(0, this.seriesUsed),
      seriesCount: this.newSeries.length,
      newSeries: this.newSeries,
    };
  }
}

/** Records that the series rows of a stored batch are in the table, so later batches skip them. */
export function markSeriesCommitted(batch: SampleBatch): void {
  for (const { entry, day } of batch.newSeries) if (day > entry.committedDay) entry.committedDay = day;
}

const encodedSources = new Map<string, Buffer>();

/** A protocol name's UTF-8 bytes, made once per name (there are a handful). */
function sourceBytesOf(source: string): Buffer {
  let bytes = encodedSources.get(source);
  if (!bytes) encodedSources.set(source, (bytes = Buffer.from(source, 'utf8')));
  return bytes;
}

function varintLength(value: number): number {
  let length = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 128)) length++;
  return length;
}

function writeVarint(out: Buffer, at: number, value: number): number {
  let rest = value;
  let pos = at;
  while (rest >= 0x80) {
    out[pos++] = (rest & 0x7f) | 0x80;
    rest = Math.floor(rest / 128);
  }
  out[pos++] = rest;
  return pos;
}

/** A RowBinary String: varint byte length, then the UTF-8 bytes. */
function writeString(out: Buffer, at: number, text: string, byteLength: number): number {
  const start = writeVarint(out, at, byteLength);
  return start + out.write(text, start, 'utf8');
}

/**
 * Length of the longest prefix of `bytes` made of whole series rows (SERIES_ROW_LAYOUT).
 * Used to cut a torn tail off a write-ahead segment after a crash.
 */
export function completeSeriesRowsLength(bytes: Buffer): number {
  return completeRowsLength(bytes, SERIES_ROW_LAYOUT);
}
