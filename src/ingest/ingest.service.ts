import { uncompress, uncompressSync } from 'snappy';
import type { Config } from '../config/index.js';
import type { Metrics } from '../observability/index.js';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import type { SampleWriter } from '../storage/sample-writer.js';
import type { DecodeResult, DecodedSeries } from './decoded-series.js';
import { decodeRemoteWrite } from './remote-write/decode-remote-write.js';
import { SampleBatchBuilder, type SampleBatch } from './sample-batch.js';
import { canonicalSeriesKey, MS_PER_DAY, type SeriesRegistry } from './series-registry.js';
import { OLDER_THAN_RETENTION, validateSeries, type TimestampBounds } from './validate-series.js';

/** Metric ingest protocols, the `protocol` label of the ingest metrics (remote write is `prometheus`). */
export const INGEST_PROTOCOLS = ['prometheus', 'otlp', 'influx'] as const;
export type Protocol = (typeof INGEST_PROTOCOLS)[number];
/** How an ingest request ended, the `outcome` label of vigil_ingest_requests_total. */
export const INGEST_OUTCOMES = ['stored', 'invalid', 'too_large', 'unsupported', 'overloaded', 'failed'] as const;
export type IngestOutcome = (typeof INGEST_OUTCOMES)[number];

export interface IngestSummary {
  samples: number;
  series: number;
  skipped: Record<string, number>;
}

export interface IngestService {
  /** Decompresses, decodes and stores a remote-write 1.0 body; resolves once durable. Throws AppError. */
  ingestRemoteWrite(snappyBody: Buffer): Promise<IngestSummary>;
  /** Stores the result of another protocol's decoder; resolves once durable. Throws AppError. */
  ingestDecoded(protocol: Exclude<Protocol, 'prometheus'>, decoded: DecodeResult): Promise<IngestSummary>;
}

export interface IngestDeps {
  writer: SampleWriter;
  registry: SeriesRegistry;
  limits: Config['ingest'];
  /**
   * The longest any sample is kept, in days (raw samples or their rollups): samples older
   * than this are refused, since every table's TTL would drop them at once.
   */
  keptDays: number;
  clock: Clock;
  metrics: Metrics;
}

/**
 * Bodies up to this size (decompressed) are decompressed on the event loop: ~50 µs for
 * Prometheus' usual ~250 kB. The asynchronous call cost ~250 µs of libuv-pool CPU per body
 * in hand-off on top (measured under bench:ingest, 2 cores: total CPU per sample fell by
 * ~20 %, the main thread's did not grow). Larger bodies (up to 64 MiB by default) still go
 * to the pool, so that one cannot stall the event loop for milliseconds.
 */
const SYNC_SNAPPY_MAX_BYTES = 4 * 1024 * 1024;
/**
 * Most a snappy block can grow: its densest element, a 3-byte copy, makes at most 64 bytes
 * (21.3x); literals grow by nothing. A header declaring more than this lies, and the
 * decompressor would first allocate (and zero) all of it: 64 MiB for a 4-byte body.
 */
const SNAPPY_MAX_EXPANSION = 24;

export function createIngestService(deps: IngestDeps): IngestService {
  const { writer, registry, limits, clock, metrics } = deps;
  const timestampBounds = (): TimestampBounds => {
    const nowMs = clock.nowMs();
    // Up to the next UTC midnight: series rows expire by whole days (day + N days), so a sample
    // in the first, partial day inside the bound would have its series row dropped at once.
    const minTimestampMs = Math.ceil((nowMs - deps.keptDays * MS_PER_DAY) / MS_PER_DAY) * MS_PER_DAY;
    return { minTimestampMs, maxTimestampMs: nowMs + limits.maxFutureMs };
  };

  async function store(protocol: Protocol, batch: SampleBatch, series: number, skipped: Record<string, number>): Promise<IngestSummary> {
    try {
      await writer.write(batch);
    } catch (error) {
      metrics.ingestRequest(protocol, error instanceof AppError && error.code === 'INGEST_OVERLOADED' ? 'overloaded' : 'failed');
      throw error;
    }
    metrics.ingestRequest(protocol, 'stored');
    metrics.ingestSamples(protocol, batch.sampleCount);
    if (batch.seriesCount > 0) metrics.ingestNewSeries(protocol, batch.seriesCount);
    for (const [reason, count] of Object.entries(skipped)) metrics.ingestSkipped(protocol, reason, count);
    return { samples: batch.sampleCount, series, skipped };
  }

  function reject(protocol: Protocol, code: string, detail: string, httpStatus: number): never {
    metrics.ingestRequest(protocol, httpStatus === 413 ? 'too_large' : httpStatus === 415 ? 'unsupported' : 'invalid');
    throw new AppError(code, detail, { httpStatus });
  }

  return {
    async ingestRemoteWrite(snappyBody) {
      const declared = snappyDeclaredLength(snappyBody);
      if (declared === null) reject('prometheus', 'INGEST_PAYLOAD_INVALID', 'body is not snappy block-compressed (bad length header)', 400);
      if (declared > limits.maxDecompressedBytes) {
        reject('prometheus', 'INGEST_PAYLOAD_TOO_LARGE', `body decompresses to ${declared} bytes, the limit is ${limits.maxDecompressedBytes}`, 413);
      }
      // The decompressor allocates the declared length before it finds a short body out.
      if (declared > SNAPPY_MAX_EXPANSION * snappyBody.length + 64) {
        reject('prometheus', 'INGEST_PAYLOAD_INVALID', `body of ${snappyBody.length} bytes cannot decompress to the ${declared} bytes its header declares`, 400);
      }
      let raw: Buffer;
      try {
        raw = (declared <= SYNC_SNAPPY_MAX_BYTES ? uncompressSync(snappyBody) : await uncompress(snappyBody)) as Buffer;
      } catch (error) {
        reject('prometheus', 'INGEST_PAYLOAD_INVALID', `snappy decompression failed: ${(error as Error).message}`, 400);
      }
      const result = decodeRemoteWrite(raw, registry, {
        maxLabelsPerSeries: limits.maxLabelsPerSeries,
        maxLabelValueBytes: limits.maxLabelValueBytes,
        maxLabelBytesPerSeries: limits.maxLabelBytesPerSeries,
        ...timestampBounds(),
      });
      if (!result.ok) reject('prometheus', 'INGEST_PAYLOAD_INVALID', result.detail, 400);
      return store('prometheus', result.batch, result.seriesCount, result.skipped);
    },

    async ingestDecoded(protocol, decoded) {
      if (!decoded.ok) {
        const status = decoded.code === 'INGEST_PAYLOAD_TOO_LARGE' ? 413 : decoded.code === 'INGEST_UNSUPPORTED_MEDIA_TYPE' ? 415 : 400;
        reject(protocol, decoded.code, decoded.detail, status);
      }
      const problem = validateAll(decoded.series, limits, timestampBounds());
      if (problem) {
        // Telegraf or a script sending seconds or milliseconds without saying so lands in 1970.
        const hint = protocol === 'influx' && problem.includes(OLDER_THAN_RETENTION) ? '; line protocol times are nanoseconds unless ?precision= (s, ms, us) says otherwise' : '';
        reject(protocol, 'INGEST_PAYLOAD_INVALID', problem + hint, 400);
      }
      let sampleCount = 0;
      for (const s of decoded.series) sampleCount += s.values.length;
      const builder = new SampleBatchBuilder(sampleCount, protocol);
      for (const series of decoded.series) {
        const key = canonicalSeriesKey(series.labels);
        const entry = registry.get(key) ?? registry.add(key, series.labels);
        for (let i = 0; i < series.values.length; i++) builder.addSample(entry, series.timestampsMs[i]!, series.values[i]!);
      }
      return store(protocol, builder.build(), decoded.series.length, decoded.skipped);
    },
  };
}

function validateAll(series: readonly DecodedSeries[], limits: Config['ingest'], bounds: TimestampBounds): string | null {
  for (let i = 0; i < series.length; i++) {
    const problem = validateSeries(series[i]!, limits, bounds);
    if (problem) return `series ${i}: ${problem}`;
  }
  return null;
}

/** The uncompressed length a snappy block declares in its leading varint, or null if malformed. */
export function snappyDeclaredLength(body: Buffer): number | null {
  let result = 0;
  let multiplier = 1;
  for (let i = 0; i < 5 && i < body.length; i++) {
    const byte = body[i]!;
    result += (byte & 0x7f) * multiplier;
    if (byte < 0x80) return result;
    multiplier *= 128;
  }
  return null;
}
