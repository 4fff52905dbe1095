import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { ddlContextOf, openStorage } from '../../src/main.js';
import { createMetrics } from '../../src/observability/index.js';
import { migrate, schemaVersion } from '../../src/storage/migrate.js';
import { migrations } from '../../src/storage/migrations/index.js';
import { createStore } from '../../src/storage/store.js';
import { makeDataDir } from '../helpers/vigil.js';

// An upgrade over a crash: the previous version inserted a journal file and was killed before
// deleting it. The file was written for the old schema, so it is replayed before the new
// migrations run: 012 counts the stored alert events once, and a file replayed after it would
// have had its events counted again by 012's view.
const dataDir = makeDataDir('vigil-upgrade-replay-');
const config = { ...defaultConfig, storage: { ...defaultConfig.storage, dataDir } };
const logger = pino({ level: 'silent' });

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('starting a newer version over files an older one left', () => {
  it('replays them before migrating, so nothing is counted twice', async () => {
    const old = createStore(config.storage);
    expect(await schemaVersion(old)).toBe(0);
    await migrate(old, ddlContextOf(config), undefined, migrations.slice(0, 11));
    expect(await schemaVersion(old)).toBe(11);
    // A journal file as the row journal names and inserts it, inserted but not yet deleted.
    const journal = join(dataDir, 'journal');
    mkdirSync(journal, { recursive: true });
    const id = '0000000aa-000000001';
    const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
    const path = join(journal, `${id}.alert_events_v1.jsonl`);
    writeFileSync(path, ['fp-up', 'fp-up', 'fp-up-2'].map((fingerprint) => JSON.stringify({ received_at: now, fingerprint }) + '\n').join(''));
    await old.insertJsonFiles('alert_events_v1', [path], `rows-${id}`);
    await old.close();

    const { store, writer, batcher, schemaBefore } = await openStorage(config, logger, createMetrics());
    try {
      expect(schemaBefore).toBe(11);
      expect(await schemaVersion(store)).toBe(migrations.at(-1)!.version);
      expect(readdirSync(journal)).toEqual([]);
      const events = await store.query<{ n: string | number }>('events', "SELECT count() AS n FROM alert_events_v1 WHERE fingerprint LIKE 'fp-up%'");
      expect(Number(events[0]!.n)).toBe(3);
      const activity = await store.query<{ fingerprint: string; events: string | number }>(
        'activity',
        "SELECT fingerprint, sum(events) AS events FROM alert_activity_v1 WHERE fingerprint LIKE 'fp-up%' GROUP BY fingerprint ORDER BY fingerprint",
      );
      expect(activity.map((r) => [r.fingerprint, Number(r.events)])).toEqual([['fp-up', 2], ['fp-up-2', 1]]);
    } finally {
      await batcher.close();
      await writer.close();
      await store.close();
    }
  });
});
