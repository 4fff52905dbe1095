import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { decodeRemoteWrite } from '../../src/ingest/remote-write/decode-remote-write.js';
import { createSeriesRegistry } from '../../src/ingest/series-registry.js';
import { ddlContextOf } from '../../src/main.js';
import { migrate } from '../../src/storage/migrate.js';
import { createRowBatcher } from '../../src/storage/row-batcher.js';
import { createSampleWriter } from '../../src/storage/sample-writer.js';
import { createStore } from '../../src/storage/store.js';
import { encodeWriteRequest } from '../helpers/remote-write.js';
import { until } from '../helpers/until.js';
import { makeDataDir } from '../helpers/vigil.js';

// The real engine refusing inserts: the table the rows go to is detached, then attached again.
const dataDir = makeDataDir('vigil-read-wait-');
const config = { ...defaultConfig, storage: { ...defaultConfig.storage, dataDir } };
const store = createStore(config.storage);
const logger = pino({ level: 'silent' });
const maxReadWaitMs = 300;

beforeAll(async () => {
  await migrate(store, ddlContextOf(config));
});
afterAll(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const count = async (sql: string) => Number((await store.query<{ n: string | number }>('count', sql))[0]?.n);

describe('a read waiting for acknowledged rows, while ClickHouse refuses their insert', () => {
  it('journaled rows: rejects with a retryable STORAGE_UNAVAILABLE after maxReadWaitMs, then the rows go in once it accepts', async () => {
    const batcher = createRowBatcher({ store, journalDir: join(dataDir, 'journal'), fsync: true, logger, maxReadWaitMs });
    await store.command('detach', 'DETACH TABLE incident_events_v1');
    await batcher.insert('incident_events_v1', [{ incident_id: 'i-wait', at: '2026-11-23 12:00:00.000', seq: 1, actor: 'test', kind: 'comment', detail: '{}' }]);
    const started = Date.now();
    await expect(batcher.whenInserted(['incident_events_v1'])).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE', retryable: true, httpStatus: 503 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(maxReadWaitMs - 5);
    await store.command('attach', 'ATTACH TABLE incident_events_v1');
    await until('journaled rows inserted', () => batcher.whenInserted(['incident_events_v1']).then(() => true, () => undefined), 15_000);
    expect(await count("SELECT count() AS n FROM incident_events_v1 WHERE incident_id = 'i-wait'")).toBe(1);
    await batcher.close();
  });

  it('samples: the same, through the write-ahead log', async () => {
    const writer = createSampleWriter({ store, walDir: join(dataDir, 'wal'), maxBatchRows: 1_000_000, flushIntervalMs: 60_000, maxQueuedRows: 100_000, fsync: true, logger, maxReadWaitMs });
    await writer.replay();
    const decoded = decodeRemoteWrite(
      encodeWriteRequest([{ labels: { __name__: 'read_wait_test', i: '1' }, samples: [{ value: 7, timestamp: Date.now() - 1000 }] }]),
      createSeriesRegistry(),
      { maxLabelsPerSeries: 64, maxLabelValueBytes: 16_384, maxLabelBytesPerSeries: 32_768, maxTimestampMs: Date.now() + 60_000, minTimestampMs: 0 },
    );
    if (!decoded.ok) throw new Error(decoded.detail);
    await store.command('detach', 'DETACH TABLE metric_samples_v1');
    await writer.write(decoded.batch);
    await expect(writer.whenInserted()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE', retryable: true, httpStatus: 503 });
    await store.command('attach', 'ATTACH TABLE metric_samples_v1');
    await until('samples inserted', () => writer.whenInserted().then(() => true, () => undefined), 15_000);
    expect(await count("SELECT count() AS n FROM metric_samples_v1 WHERE value = 7")).toBe(1);
    await writer.close();
  });
});
