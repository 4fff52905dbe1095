import { decodeRemoteWrite } from '../../src/ingest/remote-write/decode-remote-write.js';
import type { SampleBatch } from '../../src/ingest/sample-batch.js';
import type { SeriesRegistry } from '../../src/ingest/series-registry.js';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { ddlContextOf } from '../../src/main.js';
import { migrate } from '../../src/storage/migrate.js';
import { createStore, type Store } from '../../src/storage/store.js';
import { makeDataDir } from './vigil.js';
import { encodeWriteRequest, patchStaleMarkers } from './remote-write.js';

/**
 * A decoded remote-write body, as the sample writer is given it: one series `labels` with
 * these values a millisecond apart, a minute ago (a new series the first time the registry sees it).
 * STALE_PLACEHOLDER among the values becomes Prometheus' stale marker.
 */
export function sampleBatchOf(registry: SeriesRegistry, labels: Record<string, string>, values: number[]): SampleBatch {
  const now = Date.now() - 60_000;
  const decoded = decodeRemoteWrite(
    patchStaleMarkers(encodeWriteRequest([{ labels, samples: values.map((value, i) => ({ value, timestamp: now + i })) }])),
    registry,
    { maxLabelsPerSeries: 64, maxLabelValueBytes: 16_384, maxLabelBytesPerSeries: 32_768, maxTimestampMs: Date.now() + 60_000, minTimestampMs: 0 },
  );
  if (!decoded.ok) throw new Error(decoded.detail);
  return decoded.batch;
}

/** Samples stored (inserted) for a metric name, counted through its series rows. */
export async function storedSamplesOf(store: Store, metric: string): Promise<number> {
  const [row] = await store.query<{ n: string | number }>(
    'stored samples',
    'SELECT count() AS n FROM metric_samples_v1 WHERE series_id IN (SELECT series_id FROM metric_series_v1 WHERE metric_name = {metric:String})',
    { metric },
  );
  return Number(row?.n);
}

/**
 * A store on the embedded engine in a fresh data directory, migrated before the file's tests
 * and closed and deleted after them (chdb allows one data directory per process: one per file).
 */
export function useMigratedStore(prefix: string): { dataDir: string; store: Store } {
  const dataDir = makeDataDir(prefix);
  const config = { ...defaultConfig, storage: { ...defaultConfig.storage, dataDir } };
  const store = createStore(config.storage);
  beforeAll(async () => {
    await migrate(store, ddlContextOf(config));
  });
  afterAll(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { dataDir, store };
}
