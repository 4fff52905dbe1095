import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { SampleBatchBuilder, markSeriesCommitted } from '../../src/ingest/sample-batch.js';
import { createSeriesRegistry } from '../../src/ingest/series-registry.js';
import { ddlContextOf } from '../../src/main.js';
import { parseSeriesSelector } from '../../src/shared/series-selector.js';
import { migrate } from '../../src/storage/migrate.js';
import { exportSamples, type ExportedSeries, type SeriesQuery } from '../../src/storage/metrics.queries.js';
import { createSampleWriter } from '../../src/storage/sample-writer.js';
import { createStore } from '../../src/storage/store.js';
import { makeDataDir } from '../helpers/vigil.js';

// An export goes in chunks of series so that its memory stays bounded; chunked or not, the
// answer must be the same.
const dataDir = makeDataDir('vigil-export-chunks-');
const config = { ...defaultConfig, storage: { ...defaultConfig.storage, dataDir } };
const store = createStore(config.storage);
const logger = pino({ level: 'silent' });
// An hour start yesterday: inside the samples' retention whatever the date the suite runs on.
const t0 = Math.floor((Date.now() - 86_400_000) / 3_600_000) * 3_600_000;

beforeAll(async () => {
  await migrate(store, ddlContextOf(config));
  const writer = createSampleWriter({ store, walDir: join(dataDir, 'wal'), maxBatchRows: 1_000_000, flushIntervalMs: 10, maxQueuedRows: 1_000_000, fsync: false, logger });
  const registry = createSeriesRegistry();
  const builder = new SampleBatchBuilder(60, 'prometheus');
  // Six series with 3, 4, ..., 8 samples; one more series outside the selector.
  for (let s = 0; s < 7; s++) {
    const entry = registry.add(`k${s}`, [
      { name: '__name__', value: s < 6 ? 'chunked' : 'other' },
      { name: 'instance', value: `h${s}` },
    ]);
    for (let i = 0; i < 3 + s; i++) builder.addSample(entry, t0 + i * 15_000, s * 100 + i);
  }
  const batch = builder.build();
  await writer.write(batch);
  markSeriesCommitted(batch);
  await writer.whenInserted();
  await writer.close();
});
afterAll(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function collect(chunks: AsyncGenerator<ExportedSeries[]>): Promise<ExportedSeries[][]> {
  const all: ExportedSeries[][] = [];
  for await (const chunk of chunks) all.push(chunk);
  return all;
}

describe('export in chunks', () => {
  const selector = parseSeriesSelector('chunked');
  if (!selector.ok) throw new Error(selector.detail);
  const query: SeriesQuery = { selectors: [selector.selector], startMs: t0, endMs: t0 + 3_600_000, limit: 100 };

  it('gives the same series, in the same order, in chunks of about the asked size', async () => {
    const whole = await collect(exportSamples(store, query));
    expect(whole).toHaveLength(1);
    expect(whole[0]!.map((s) => s.metric.instance)).toEqual(['h0', 'h1', 'h2', 'h3', 'h4', 'h5']);
    expect(whole[0]!.map((s) => s.values.length)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(whole[0]![2]).toEqual({ metric: { __name__: 'chunked', instance: 'h2' }, timestamps: [0, 1, 2, 3, 4].map((i) => t0 + i * 15_000), values: [200, 201, 202, 203, 204] });

    // At most 10 samples a chunk: 3+4 | 5 | 6 | 7 | 8 (a series is never split).
    const chunked = await collect(exportSamples(store, query, 10));
    expect(chunked.map((c) => c.map((s) => s.metric.instance))).toEqual([['h0', 'h1'], ['h2'], ['h3'], ['h4'], ['h5']]);
    expect(chunked.flat()).toEqual(whole[0]);
  });

  it('gives nothing for a range without samples', async () => {
    expect(await collect(exportSamples(store, { ...query, startMs: t0 + 7_200_000, endMs: t0 + 7_300_000 }))).toEqual([]);
  });
});
