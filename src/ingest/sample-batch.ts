import { dayOfMs, type SeriesEntry } from './series-registry.js';

/** Bytes of one sample row in RowBinary: series_id UInt64, ts DateTime64(3) as Int64 ms, value Float64. */
export const SAMPLE_ROW_BYTES = 24;
/** RowBinary structure of a sample row, for `file()` and server inserts. */
export const SAMPLE_ROW_STRUCTURE = 'series_id UInt64, ts DateTime64(3), value Float64';
/** RowBinary structure of a series row, in the column order of metric_series_v1. */
export const SERIES_ROW_STRUCTURE = 'day Date, series_id UInt64, metric_name String, labels Map(String, String), source String';

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

/** Builds a SampleBatch. Sized up front by the caller's upper bound on samples. */
export class SampleBatchBuilder {
  private readonly samples: Buffer;
  private sampleCount = 0;
  private seriesChunks: Buffer[] = [];
  private readonly queuedSeries = new Map<SeriesEntry, number>();
  private readonly newSeries: { entry: SeriesEntry; day: number }[] = [];

  constructor(
    maxSamples: number,
    private readonly source: string,
  ) {
    this.samples = Buffer.allocUnsafe(Math.max(0, maxSamples) * SAMPLE_ROW_BYTES);
  }

  get capacity(): number {
    return this.samples.length / SAMPLE_ROW_BYTES;
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
    const offset = this.beginRow(entry, timestampMs);
    source.copy(this.samples, offset + 16, valueOffset, valueOffset + 8);
  }

  private beginRow(entry: SeriesEntry, timestampMs: number): number {
    const offset = this.sampleCount * SAMPLE_ROW_BYTES;
    const samples = this.samples;
    samples.writeUInt32LE(entry.idLow, offset);
    samples.writeUInt32LE(entry.idHigh, offset + 4);
    // Timestamps are validated non-negative integers below 2^53 before they get here.
    samples.writeUInt32LE(timestampMs % TWO_POW_32, offset + 8);
    samples.writeUInt32LE(Math.floor(timestampMs / TWO_POW_32), offset + 12);
    this.sampleCount++;
    const day = dayOfMs(timestampMs);
    if (entry.committedDay !== day && this.queuedSeries.get(entry) !== day) this.queueSeriesRow(entry, day);
    return offset;
  }

  private queueSeriesRow(entry: SeriesEntry, day: number): void {
    this.queuedSeries.set(entry, day);
    this.newSeries.push({ entry, day });
    const parts: Buffer[] = [];
    const head = Buffer.allocUnsafe(10);
    head.writeUInt16LE(day, 0);
    head.writeUInt32LE(entry.idLow, 2);
    head.writeUInt32LE(entry.idHigh, 6);
    parts.push(head, encodeString(entry.metricName), encodeVarint(entry.labels.length));
    for (const label of entry.labels) parts.push(encodeString(label.name), encodeString(label.value));
    parts.push(encodeString(this.source));
    this.seriesChunks.push(Buffer.concat(parts));
  }

  build(): SampleBatch {
    return {
      samples: this.samples.subarray(0, this.sampleCount * SAMPLE_ROW_BYTES),
      sampleCount: this.sampleCount,
      seriesRows: Buffer.concat(this.seriesChunks),
      seriesCount: this.newSeries.length,
      newSeries: this.newSeries,
    };
  }
}

/** Records that the series rows of a stored batch are in the table, so later batches skip them. */
export function markSeriesCommitted(batch: SampleBatch): void {
  for (const { entry, day } of batch.newSeries) if (day > entry.committedDay) entry.committedDay = day;
}

function encodeVarint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function encodeString(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  return Buffer.concat([encodeVarint(body.length), body]);
}
