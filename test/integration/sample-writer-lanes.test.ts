import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createSeriesRegistry } from '../../src/ingest/series-registry.js';
import { createSampleWriter } from '../../src/storage/sample-writer.js';
import { STALE_PLACEHOLDER } from '../helpers/remote-write.js';
import { sampleBatchOf, storedSamplesOf, useMigratedStore } from '../helpers/sample-writer.js';

// The sample writer on the real engine and real files: two group commits at once, each into a
// segment of its own, and values stored bit for bit.
const { dataDir, store } = useMigratedStore('vigil-sample-lanes-');
const logger = pino({ level: 'silent' });
const registry = createSeriesRegistry();

const batchOf = (metric: string, values: number[]) => sampleBatchOf(registry, { __name__: metric, lane: 'test' }, values);
const samplesOf = (metric: string) => storedSamplesOf(store, metric);
const count = async (sql: string, params: Record<string, unknown>) => Number((await store.query<{ n: string | number }>('count', sql, params))[0]?.n);
const seriesRows = (metric: string) => count('SELECT count() AS n FROM metric_series_v1 FINAL WHERE metric_name = {metric:String}', { metric });

/** Writes two batches of the same new series, the second while the first one's commit runs. */
async function overlappingWrites(writer: ReturnType<typeof createSampleWriter>, metric: string) {
  const first = writer.write(batchOf(metric, [1, 2, 3]));
  // The first commit has started (it waits for the disk); the second takes the other lane.
  await new Promise((resolve) => setImmediate(resolve));
  const second = writer.write(batchOf(metric, [4, 5]));
  await Promise.all([first, second]);
}

describe('write-ahead commits in two lanes', () => {
  it('a commit that starts while another runs writes a segment of its own; both carry the new series', async () => {
    const walDir = join(dataDir, 'wal-lanes');
    const writer = createSampleWriter({ store, walDir, maxBatchRows: 1_000_000, flushIntervalMs: 60_000, maxQueuedRows: 100_000, fsync: true, logger });
    await writer.replay();
    await overlappingWrites(writer, 'lanes_metric');
    const pending = readdirSync(join(walDir, 'pending')).sort();
    expect(pending.filter((name) => name.endsWith('.samples.rb'))).toHaveLength(2);
    // The second batch was built before the first's series row was stored: it carries it too.
    expect(pending.filter((name) => name.endsWith('.series.rb'))).toHaveLength(2);
    await writer.whenInserted();
    expect(await samplesOf('lanes_metric')).toBe(5);
    expect(await seriesRows('lanes_metric')).toBe(1);
    await writer.close();
  });

  it('a crash leaves both segments, and the next start inserts every acknowledged sample once', async () => {
    const walDir = join(dataDir, 'wal-crash');
    const crashed = createSampleWriter({ store, walDir, maxBatchRows: 1_000_000, flushIntervalMs: 60_000, maxQueuedRows: 100_000, fsync: true, logger });
    await crashed.replay();
    await overlappingWrites(crashed, 'lanes_crash_metric');
    expect(readdirSync(join(walDir, 'pending')).filter((name) => name.endsWith('.samples.rb'))).toHaveLength(2);
    // No close, no insert: as after SIGKILL. The next process replays what is on disk.
    const next = createSampleWriter({ store, walDir, maxBatchRows: 1_000_000, flushIntervalMs: 60_000, maxQueuedRows: 100_000, fsync: true, logger });
    expect(await next.replay()).toEqual({ segments: 2, rows: 5 });
    expect(await samplesOf('lanes_crash_metric')).toBe(5);
    expect(await seriesRows('lanes_crash_metric')).toBe(1);
    await next.close();
  });
});

describe('stored values', () => {
  it('keeps NaN, the stale marker, ±Inf, -0 and the extremes bit for bit (the export cannot tell the stale marker from NaN)', async () => {
    const walDir = join(dataDir, 'wal-values');
    const writer = createSampleWriter({ store, walDir, maxBatchRows: 1_000_000, flushIntervalMs: 60_000, maxQueuedRows: 100_000, fsync: true, logger });
    await writer.replay();
    const values = [0.1, Number.NaN, STALE_PLACEHOLDER, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, Number.MIN_VALUE, Number.MAX_VALUE];
    await writer.write(batchOf('values_metric', values));
    await writer.whenInserted();
    const rows = await store.query<{ bits: string }>(
      'stored bits',
      `SELECT leftPad(hex(reinterpretAsUInt64(value)), 16, '0') AS bits FROM metric_samples_v1
       WHERE series_id IN (SELECT series_id FROM metric_series_v1 WHERE metric_name = 'values_metric') ORDER BY ts`,
    );
    const bitsOf = (value: number) => {
      const buffer = Buffer.alloc(8);
      buffer.writeDoubleBE(value);
      return buffer.toString('hex').toUpperCase();
    };
    // Big-endian hex of each double; the stale marker is 0x7ff0000000000002.
    expect(rows.map((r) => r.bits)).toEqual([bitsOf(0.1), bitsOf(Number.NaN), '7FF0000000000002', ...values.slice(3).map(bitsOf)]);
    await writer.close();
  });
});
