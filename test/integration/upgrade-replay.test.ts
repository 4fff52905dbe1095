import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { ddlContextOf, openStorage } from '../../src/main.js';
import { CURRENT_ALERTS } from '../../src/storage/alerts.queries.js';
import { createMetrics } from '../../src/observability/index.js';
import { migrate, schemaVersion } from '../../src/storage/migrate.js';
import { migrations } from '../../src/storage/migrations/index.js';
import { createStore } from '../../src/storage/store.js';
import { makeDataDir } from '../helpers/vigil.js';

// An upgrade over a crash: the previous version inserted its journal files and was killed before
// deleting them. They were written for the old schema, so they are replayed before the new
// migrations run; and whatever the order, the alert's events are counted once (012 seeds the
// activity from the state rows, and old-format event rows count for no alert).
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
    // Journal files as the row journal names and inserts them, inserted but not yet deleted:
    // two events of fp-up and one of fp-up-2, each with its state row (as before 012).
    const journal = join(dataDir, 'journal');
    mkdirSync(journal, { recursive: true });
    const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
    const events = join(journal, '0000000aa-000000001.alert_events_v1.jsonl');
    writeFileSync(events, ['fp-up', 'fp-up', 'fp-up-2'].map((fingerprint) => JSON.stringify({ received_at: now, fingerprint }) + '\n').join(''));
    await old.insertJsonFiles('alert_events_v1', [events], 'rows-0000000aa-000000001');
    const states = join(journal, '0000000aa-000000002.alerts_v1.jsonl');
    const state = (fingerprint: string, count: number) => JSON.stringify({ fingerprint, status: 'firing', first_seen_at: now, last_seen_at: now, event_count: count, version: count }) + '\n';
    writeFileSync(states, state('fp-up', 1) + state('fp-up', 2) + state('fp-up-2', 1));
    await old.insertJsonFiles('alerts_v1', [states], 'rows-0000000aa-000000002');
    await old.close();

    const { store, writer, batcher, schemaBefore } = await openStorage(config, logger, createMetrics());
    try {
      expect(schemaBefore).toBe(11);
      expect(await schemaVersion(store)).toBe(migrations.at(-1)!.version);
      expect(readdirSync(journal)).toEqual([]);
      const stored = await store.query<{ n: string | number }>('events', "SELECT count() AS n FROM alert_events_v1 WHERE fingerprint LIKE 'fp-up%'");
      expect(Number(stored[0]!.n)).toBe(3);
      const read = await store.query<{ fingerprint: string; event_count: string | number }>(
        'current',
        `SELECT fingerprint, event_count FROM ${CURRENT_ALERTS} WHERE fingerprint LIKE 'fp-up%' ORDER BY fingerprint`,
      );
      expect(read.map((r) => [r.fingerprint, Number(r.event_count)])).toEqual([['fp-up', 2], ['fp-up-2', 1]]);
    } finally {
      await batcher.close();
      await writer.close();
      await store.close();
    }
  });
});
