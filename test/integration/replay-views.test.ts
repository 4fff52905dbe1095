import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { SAMPLE_ROW_LAYOUT } from '../../src/ingest/sample-batch.js';
import { ddlContextOf } from '../../src/main.js';
import { migrate } from '../../src/storage/migrate.js';
import { createStore } from '../../src/storage/store.js';
import { makeDataDir } from '../helpers/vigil.js';

// A write-ahead segment or journal file is inserted with its id as deduplication token and
// deleted after; a crash in between replays it at the next start. The table drops the repeat;
// its materialized views must too, and must take what a crash inside the insert kept from them.
const dataDir = makeDataDir('vigil-replay-views-');
const config = { ...defaultConfig, storage: { ...defaultConfig.storage, dataDir } };
const store = createStore(config.storage);
const files = join(dataDir, 'files');
// An hour of yesterday (UTC): inside every retention.
const hour = Math.floor((Date.now() - 86_400_000) / 3_600_000) * 3_600_000;

beforeAll(async () => {
  mkdirSync(files, { recursive: true });
  await migrate(store, ddlContextOf(config));
});
afterAll(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A RowBinary segment of `count` samples of one series, a second apart from the start of `hour`. */
function segment(name: string, seriesId: number, count: number): string {
  const rows = Buffer.alloc(24 * count);
  for (let i = 0; i < count; i++) {
    rows.writeBigUInt64LE(BigInt(seriesId), i * 24);
    rows.writeBigInt64LE(BigInt(hour + i * 1000), i * 24 + 8);
    rows.writeDoubleLE(i + 1, i * 24 + 16);
  }
  const path = join(files, name);
  writeFileSync(path, rows);
  return path;
}

async function counts(seriesId: number): Promise<{ raw: number; minute: number; hour: number }> {
  const one = async (sql: string) => Number((await store.query<{ n: string | number }>('count', sql, { id: seriesId }))[0]?.n ?? 0);
  return {
    raw: await one('SELECT count() AS n FROM metric_samples_v1 WHERE series_id = {id:UInt64}'),
    minute: await one('SELECT sum(count) AS n FROM metric_samples_1m_v2 WHERE series_id = {id:UInt64}'),
    hour: await one('SELECT sum(count) AS n FROM metric_samples_1h_v2 WHERE series_id = {id:UInt64}'),
  };
}

describe('replaying an inserted file', () => {
  it('a samples segment inserted again adds nothing to the rollups', async () => {
    const path = segment('seg-1.bin', 77, 3);
    await store.insertRowBinaryFiles('metric_samples_v1', SAMPLE_ROW_LAYOUT, [path], 'samples-replay-1');
    // The replay after a crash that came between the insert and the file's deletion.
    await store.insertRowBinaryFiles('metric_samples_v1', SAMPLE_ROW_LAYOUT, [path], 'samples-replay-1');
    expect(await counts(77)).toEqual({ raw: 3, minute: 3, hour: 3 });
  });

  it('a segment whose insert reached the table but not the rollups fills them when replayed', async () => {
    const path = segment('seg-2.bin', 78, 4);
    // Detaching the minute view stands for a crash inside the insert, after the raw part.
    await store.command('detach', 'DETACH TABLE metric_samples_1m_mv_v2');
    await store.insertRowBinaryFiles('metric_samples_v1', SAMPLE_ROW_LAYOUT, [path], 'samples-replay-2');
    await store.command('attach', 'ATTACH TABLE metric_samples_1m_mv_v2');
    expect(await counts(78)).toEqual({ raw: 4, minute: 0, hour: 0 });
    await store.insertRowBinaryFiles('metric_samples_v1', SAMPLE_ROW_LAYOUT, [path], 'samples-replay-2');
    expect(await counts(78)).toEqual({ raw: 4, minute: 4, hour: 4 });
  });

  it('an alert journal file inserted again adds nothing twice to what reads count of the events', async () => {
    const time = new Date(hour).toISOString().replace('T', ' ').replace('Z', '');
    const lines = ['fp-replay-a', 'fp-replay-a', 'fp-replay-b'].map((fingerprint) => JSON.stringify({ received_at: time, fingerprint }) + '\n').join('');
    const path = join(files, 'journal-1.alert_events_v1.jsonl');
    writeFileSync(path, lines);
    const activity = async () =>
      store.query<{ fingerprint: string; events: string | number }>(
        'activity',
        "SELECT fingerprint, sum(events) AS events FROM alert_activity_v1 WHERE fingerprint LIKE 'fp-replay-%' GROUP BY fingerprint ORDER BY fingerprint",
      );
    await store.insertJsonFiles('alert_events_v1', [path], 'rows-replay-1');
    await store.insertJsonFiles('alert_events_v1', [path], 'rows-replay-1');
    expect((await activity()).map((r) => [r.fingerprint, Number(r.events)])).toEqual([['fp-replay-a', 2], ['fp-replay-b', 1]]);
    const events = await store.query<{ n: string | number }>('events', "SELECT count() AS n FROM alert_events_v1 WHERE fingerprint LIKE 'fp-replay-%'");
    expect(Number(events[0]!.n)).toBe(3);
  });
});
