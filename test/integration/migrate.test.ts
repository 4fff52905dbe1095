import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import type { DdlContext } from '../../src/storage/ddl.js';
import { migrate } from '../../src/storage/migrate.js';
import { migrations, rollupLastValueSql } from '../../src/storage/migrations/index.js';
import { CURRENT_ALERTS, listAlertEvents } from '../../src/storage/alerts.queries.js';
import { findIncident, incidentRow } from '../../src/storage/incidents.queries.js';
import { createStore, type Store } from '../../src/storage/store.js';

// The samples' day: yesterday (UTC), inside every retention the tests set (a fixed date
// would fall out of them as the calendar moves on, and TTL would drop its rows).
const DAY = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

// chdb allows one data directory per process: one store for the whole file.
const dataDir = mkdtempSync(join(tmpdir(), 'vigil-migrate-'));
const store: Store = createStore({ ...defaultConfig.storage, dataDir });
const ctx: DdlContext = {
  cluster: undefined,
  retentionDays: defaultConfig.storage.retentionDays,
  rollupRetentionDays: defaultConfig.storage.rollupRetentionDays,
  alertEventRetentionDays: defaultConfig.storage.alertEventRetentionDays,
  fsync: true,
};

interface TableRow {
  name: string;
  engine: string;
  create_table_query: string;
}

const tables = () =>
  store.query<TableRow>('tables', 'SELECT name, engine, create_table_query FROM system.tables WHERE database = currentDatabase() ORDER BY name');

async function createQuery(table: string): Promise<string> {
  const rows = await store.query<{ create_table_query: string }>(
    'create query',
    'SELECT create_table_query FROM system.tables WHERE database = currentDatabase() AND name = {name:String}',
    { name: table },
  );
  expect(rows).toHaveLength(1);
  return rows[0]!.create_table_query;
}

/**
 * Merges `table` until `count()` is down to `expected` (a TTL materialised by the retention
 * check applies at merges), for at most ~10 s; returns the last count.
 */
async function rowsAfterTtlMerges(table: string, count: () => Promise<number>, expected: number): Promise<number> {
  let left = await count();
  for (let i = 0; i < 50 && left > expected; i++) {
    await store.command('merge', `OPTIMIZE TABLE ${table} FINAL`);
    left = await count();
    if (left > expected) await new Promise((r) => setTimeout(r, 200));
  }
  return left;
}

afterAll(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('migrate on the embedded engine', () => {
  let afterFirst: TableRow[] = [];

  beforeAll(async () => {
    expect(await migrate(store, ctx, undefined, migrations.slice(0, 7))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // Samples stored before 008, rolled up into the argMax rollups it replaces.
    await store.command(
      'samples before 008',
      `INSERT INTO metric_samples_v1 VALUES (9, '${DAY} 10:00:20.000', 7), (9, '${DAY} 10:00:10.000', 5), (9, '${DAY} 10:01:05.000', 3)`,
    );
    expect(await migrate(store, ctx, undefined, migrations.slice(0, 8))).toEqual([8]);
    // As after a start cut short between 008's statements and its record: they run again.
    for (const statement of migrations[7]!.statements(ctx)) await store.command('008 again', statement);
    expect(await migrate(store, ctx, undefined, migrations.slice(0, 11))).toEqual([9, 10, 11]);
    // An alert as stored before 012: three events, each with a new version of the state row.
    await store.command(
      'events before 012',
      `INSERT INTO alert_events_v1 (received_at, fingerprint, ends_at) VALUES
       ('${DAY} 09:00:00.000', 'fp-old', '${DAY} 09:04:00.000'), ('${DAY} 09:00:30.000', 'fp-old', NULL), ('${DAY} 09:01:00.000', 'fp-old', '${DAY} 09:05:00.000')`,
    );
    const state = (lastSeen: string, endsAt: string | null, count: number) =>
      `('fp-old', '${DAY} 09:00:00.000', '${DAY} ${lastSeen}', ${endsAt === null ? 'NULL' : `'${DAY} ${endsAt}'`}, ${count}, ${count})`;
    await store.command(
      'states before 012',
      `INSERT INTO alerts_v1 (fingerprint, first_seen_at, last_seen_at, ends_at, event_count, version) VALUES
       ${state('09:00:00.000', '09:04:00.000', 1)}, ${state('09:00:30.000', null, 2)}, ${state('09:01:00.000', '09:05:00.000', 3)}`,
    );
    expect(await migrate(store, ctx, undefined, migrations.slice(0, 14))).toEqual([12, 13, 14]);
    // Maps as stored before 015, with LowCardinality keys.
    await store.command(
      'maps before 015',
      `INSERT INTO alert_events_v1 (received_at, fingerprint, labels, annotations) VALUES ('${DAY} 08:00:00.000', 'fp-maps', map('alertname', 'Maps', 'instance', 'h:1'), map('summary', 's'))`,
    );
    await store.command('state before 015', `INSERT INTO alerts_v1 (fingerprint, labels, annotations, version) VALUES ('fp-maps', map('alertname', 'Maps'), map('summary', 's'), 1)`);
    expect(await migrate(store, ctx, undefined, migrations.slice(0, 15))).toEqual([15]);
    expect(await migrate(store, ctx)).toEqual([16, 17, 18]);
    // As after a start cut short between 012's statements and its record.
    for (const statement of migrations[11]!.statements(ctx)) await store.command('012 again', statement);
    afterFirst = await tables();
  });

  it('creates every table and view of every migration once', () => {
    expect(afterFirst.map((t) => [t.name, t.engine])).toEqual([
      ['alert_activity_mv_v1', 'MaterializedView'],
      ['alert_activity_v1', 'AggregatingMergeTree'],
      ['alert_events_v1', 'MergeTree'],
      ['alerts_v1', 'ReplacingMergeTree'],
      ['catalog_versions_v1', 'MergeTree'],
      ['incident_alerts_v1', 'ReplacingMergeTree'],
      ['incident_events_v1', 'MergeTree'],
      ['incidents_v1', 'ReplacingMergeTree'],
      ['metric_samples_1h_mv_v2', 'MaterializedView'],
      ['metric_samples_1h_v2', 'AggregatingMergeTree'],
      ['metric_samples_1m_mv_v2', 'MaterializedView'],
      ['metric_samples_1m_v2', 'AggregatingMergeTree'],
      ['metric_samples_v1', 'MergeTree'],
      ['metric_series_v1', 'ReplacingMergeTree'],
      ['notification_attempts_v1', 'MergeTree'],
      ['notification_deliveries_v1', 'ReplacingMergeTree'],
      ['schema_migrations', 'ReplacingMergeTree'],
    ]);
  });

  it('a second run applies nothing and changes no definition', async () => {
    expect(await migrate(store, ctx)).toEqual([]);
    expect(await tables()).toEqual(afterFirst);
    const shown = await store.query<{ statement: string }>('show create', 'SHOW CREATE TABLE metric_samples_v1');
    expect(shown).toHaveLength(1);
    expect(shown[0]!.statement).toContain('CODEC(DoubleDelta, ZSTD(1))');
    expect(shown[0]!.statement).toContain('fsync_after_insert = 1');
  });

  it('records each version once in schema_migrations', async () => {
    const rows = await store.query<{ version: number; name: string }>('migrations', 'SELECT version, name FROM schema_migrations FINAL');
    expect(rows.map((r) => [Number(r.version), r.name]).sort()).toEqual([[1, 'metrics'], [10, 'ttl-recalculate-only'], [11, 'sla-breach-targets'], [12, 'alert-activity'], [13, 'view-dedup'], [14, 'alert-event-ttl'], [15, 'alert-map-columns'], [16, 'alert-event-repeats'], [17, 'incident-reopened-at'], [18, 'incident-escalation-repeats'], [2, 'alerts'], [3, 'incidents'], [4, 'notifications'], [5, 'catalog'], [6, 'escalation-deliveries'], [7, 'journal-dedup'], [8, 'rollup-last'], [9, 'drop-old-rollups']]);
    const all = await store.query<{ n: string | number }>('count', 'SELECT count() AS n FROM schema_migrations');
    expect(Number(all[0]!.n)).toBe(18);
  });

  it('re-running the exact statements of the latest migrations is a no-op (IF [NOT] EXISTS)', async () => {
    // 001's would bring back the rollup views 008 dropped: only ever run on an empty database.
    for (const statement of migrations[5]!.statements(ctx)) await store.command('rerun', statement);
    for (const statement of migrations[8]!.statements(ctx)) await store.command('rerun', statement);
    expect(await tables()).toEqual(afterFirst);
  });

  it('006 adds escalation level and severity to incidents, with defaults for older rows', async () => {
    const incidents = await createQuery('incidents_v1');
    expect(incidents).toContain('`escalation_level` UInt8 DEFAULT 0');
    expect(incidents).toContain("`severity` LowCardinality(String) DEFAULT ''");
  });

  it('017 adds when an incident was last reopened and whether it was in breach then (nullable, false by default)', async () => {
    const incidents = await createQuery('incidents_v1');
    expect(incidents).toContain("`reopened_at` Nullable(DateTime64(3, 'UTC'))");
    expect(incidents).toContain('`breached_at_reopen` Bool DEFAULT false');
  });

  it('011 tells response and resolution breaches apart; rows from before it read back with the breached target inferred', async () => {
    const incidents = await createQuery('incidents_v1');
    expect(incidents).toContain('`response_breached` Bool DEFAULT false');
    expect(incidents).toContain('`resolution_breached` Bool DEFAULT false');
    const legacy = (id: string, acknowledgedAt: string | null, resolvedAt: string | null) => {
      const row: Record<string, unknown> = {
        ...incidentRow(
          {
            id, title: id, status: resolvedAt ? 'resolved' : 'acknowledged', priority: 'P3', severity: 'major', escalationLevel: 0, groupKey: id, services: [], cis: [],
            alertFingerprints: [], alertCount: 1, createdAtMs: Date.parse('2026-11-20T10:00:00Z'),
            acknowledgedAtMs: acknowledgedAt ? Date.parse(acknowledgedAt) : null, resolvedAtMs: resolvedAt ? Date.parse(resolvedAt) : null, closedAtMs: null, reopenedAtMs: null, breachedAtReopen: false, escalationRepeats: 0, escalationToldAtMs: null,
            assignee: null, responseDueAtMs: Date.parse('2026-11-20T14:00:00Z'), resolutionDueAtMs: Date.parse('2026-11-21T10:00:00Z'),
            slaBreached: true, responseBreached: false, resolutionBreached: false, relatedIncidentId: null, allAlertsResolvedAtMs: null, pauses: [],
          },
          1,
        ),
      };
      // As written before 011: no per-target columns (nor 018's repeat count, which reads 0).
      delete row.response_breached;
      delete row.resolution_breached;
      delete row.escalation_repeats;
      delete row.escalation_told_at;
      return row;
    };
    await store.insertRows('incidents_v1', [
      legacy('late-ack', '2026-11-20T15:00:00Z', null),
      legacy('late-fix', '2026-11-20T10:05:00Z', '2026-11-22T10:00:00Z'),
      legacy('never-acked', null, null),
    ]);
    const flags = async (id: string) => {
      const found = await findIncident(store, id);
      return found && [found.responseBreached, found.resolutionBreached];
    };
    expect(await flags('late-ack')).toEqual([true, false]);
    expect(await flags('late-fix')).toEqual([false, true]);
    expect(await flags('never-acked')).toEqual([true, false]);
    expect(await findIncident(store, 'late-ack')).toMatchObject({ escalationRepeats: 0, escalationToldAtMs: null });
  });

  it('018 keeps the escalation repeats told per opening and when the level was last told (0, NULL by default)', async () => {
    const incidents = await createQuery('incidents_v1');
    expect(incidents).toContain('`escalation_repeats` UInt16 DEFAULT 0');
    expect(incidents).toContain("`escalation_told_at` Nullable(DateTime64(3, 'UTC'))");
  });

  it('012 seeds each alert\'s activity from its latest state row once; its view adds the events that carry the alert\'s first-seen time', async () => {
    const activity = async () => {
      const [row] = await store.query<{ events: string | number; last_seen: string; ends_at: string | null }>(
        'activity',
        `SELECT sum(events) AS events, toString(max(latest).1) AS last_seen, toString(max(latest).2) AS ends_at FROM alert_activity_v1
         WHERE fingerprint = 'fp-old' AND first_seen_at = '${DAY} 09:00:00.000'`,
      );
      return row && { events: Number(row.events), lastSeen: row.last_seen, endsAt: row.ends_at };
    };
    // Seeded once, although 012's statements ran twice.
    expect(await activity()).toEqual({ events: 3, lastSeen: `${DAY} 09:01:00.000`, endsAt: `${DAY} 09:05:00.000` });
    await store.command('event after 012', `INSERT INTO alert_events_v1 (received_at, first_seen_at, fingerprint, ends_at) VALUES ('${DAY} 09:02:00.000', '${DAY} 09:00:00.000', 'fp-old', NULL)`);
    expect(await activity()).toEqual({ events: 4, lastSeen: `${DAY} 09:02:00.000`, endsAt: null });
    // A row without the time (stored before 012, or an old journal line replayed) counts for no alert.
    await store.command('old-format event', `INSERT INTO alert_events_v1 (received_at, fingerprint, ends_at) VALUES ('${DAY} 09:03:00.000', 'fp-old', NULL)`);
    expect(await activity()).toEqual({ events: 4, lastSeen: `${DAY} 09:02:00.000`, endsAt: null });
    const [read] = await store.query<{ event_count: string | number; last_seen: string }>(
      'current',
      `SELECT event_count, toString(last_seen_at) AS last_seen FROM ${CURRENT_ALERTS} WHERE fingerprint = 'fp-old'`,
    );
    expect([Number(read!.event_count), read!.last_seen]).toEqual([4, `${DAY} 09:02:00.000`]);
  });

  it('015 makes the alert maps plain Map(String, String), keeping what was stored', async () => {
    const types = await store.query<{ table: string; name: string; type: string }>(
      'map types',
      "SELECT table, name, type FROM system.columns WHERE database = currentDatabase() AND table IN ('alert_events_v1', 'alerts_v1') AND name IN ('labels', 'annotations') ORDER BY table, name",
    );
    expect(types).toEqual([
      { table: 'alert_events_v1', name: 'annotations', type: 'Map(String, String)' },
      { table: 'alert_events_v1', name: 'labels', type: 'Map(String, String)' },
      { table: 'alerts_v1', name: 'annotations', type: 'Map(String, String)' },
      { table: 'alerts_v1', name: 'labels', type: 'Map(String, String)' },
    ]);
    const [event] = await store.query<{ labels: Record<string, string>; annotations: Record<string, string> }>('event', "SELECT labels, annotations FROM alert_events_v1 WHERE fingerprint = 'fp-maps'");
    expect(event).toEqual({ labels: { alertname: 'Maps', instance: 'h:1' }, annotations: { summary: 's' } });
    const [state] = await store.query<{ labels: Record<string, string> }>('state', "SELECT labels FROM alerts_v1 WHERE fingerprint = 'fp-maps'");
    expect(state).toEqual({ labels: { alertname: 'Maps' } });
  });

  it('016 numbers alert events and marks repeated maps; rows stored before read as seq 0, nothing repeated', async () => {
    const columns = await store.query<{ name: string; type: string; default_expression: string }>(
      'event columns',
      "SELECT name, type, default_expression FROM system.columns WHERE database = currentDatabase() AND table = 'alert_events_v1' AND name IN ('seq', 'repeats') ORDER BY name",
    );
    expect(columns).toEqual([
      { name: 'repeats', type: 'UInt8', default_expression: '0' },
      { name: 'seq', type: 'UInt64', default_expression: '0' },
    ]);
    const { events } = await listAlertEvents(store, 'fp-maps', { limit: 10, offset: 0 });
    expect(events).toMatchObject([{ seq: 0, labels: { alertname: 'Maps', instance: 'h:1' }, annotations: { summary: 's' } }]);
  });

  it('007 gives the journaled tables a dedup window (and fsync) so a replayed journal segment inserts nothing twice', async () => {
    for (const table of ['alert_events_v1', 'alerts_v1', 'incidents_v1', 'incident_alerts_v1', 'incident_events_v1', 'notification_attempts_v1', 'notification_deliveries_v1']) {
      const definition = await createQuery(table);
      expect(definition, table).toContain('non_replicated_deduplication_window = 10000');
      expect(definition, table).toContain('fsync_after_insert = 1');
    }
  });

  it('012 and 013 give the views\' tables a dedup window (and fsync): a replayed file adds to a view only what it missed', async () => {
    for (const table of ['metric_samples_1m_v2', 'metric_samples_1h_v2', 'alert_activity_v1']) {
      const definition = await createQuery(table);
      expect(definition, table).toMatch(/non_replicated_deduplication_window = \d+/);
      expect(definition, table).toContain('fsync_after_insert = 1');
    }
  });

  type Rollup = { mn: number; mx: number; s: number; c: string | number; last: number };
  const rollup = (table: string, bucket: string, seriesId: number) =>
    store
      .query<Rollup>(
        table,
        `SELECT min(min) AS mn, max(max) AS mx, sum(sum) AS s, sum(count) AS c, ${rollupLastValueSql('max(last)')} AS last
FROM ${table} WHERE series_id = {id:UInt64} GROUP BY ${bucket} ORDER BY ${bucket}`,
        { id: seriesId },
      )
      .then((rows) => rows.map((r) => ({ min: r.mn, max: r.mx, sum: r.s, count: Number(r.c), last: r.last })));

  it('rolls raw samples up into 1 m and 1 h, keeping NaN out of the aggregates', async () => {
    await store.command(
      'x',
      `INSERT INTO metric_samples_v1 VALUES (1, '${DAY} 10:00:00.000', 1.5), (1, '${DAY} 10:00:30.000', 2.5), (1, '${DAY} 10:00:45.000', nan)`,
    );
    const raw = await store.query<{ n: string | number }>('raw', 'SELECT count() AS n FROM metric_samples_v1 WHERE series_id = 1');
    expect(Number(raw[0]!.n)).toBe(3);
    const expected = [{ min: 1.5, max: 2.5, sum: 4, count: 2, last: 2.5 }];
    expect(await rollup('metric_samples_1m_v2', 'minute', 1)).toEqual(expected);
    expect(await rollup('metric_samples_1h_v2', 'hour', 1)).toEqual(expected);
  });

  it('`last` is the value at the latest time, whatever the order samples arrive in', async () => {
    // Separate inserts: separate parts, merged later; the latest sample arrives first.
    await store.command('late', `INSERT INTO metric_samples_v1 VALUES (2, '${DAY} 10:00:50.000', -4), (2, '${DAY} 10:59:00.000', 0.25)`);
    await store.command('early', `INSERT INTO metric_samples_v1 VALUES (2, '${DAY} 10:00:10.000', 8), (2, '${DAY} 10:58:59.999', 16)`);
    expect(await rollup('metric_samples_1m_v2', 'minute', 2)).toEqual([
      { min: -4, max: 8, sum: 4, count: 2, last: -4 },
      { min: 16, max: 16, sum: 16, count: 1, last: 16 },
      { min: 0.25, max: 0.25, sum: 0.25, count: 1, last: 0.25 },
    ]);
    expect(await rollup('metric_samples_1h_v2', 'hour', 2)).toEqual([{ min: -4, max: 16, sum: 20.25, count: 4, last: 0.25 }]);
    await store.command('merge', 'OPTIMIZE TABLE metric_samples_1m_v2 FINAL');
    expect((await rollup('metric_samples_1m_v2', 'minute', 2)).map((r) => r.last)).toEqual([-4, 16, 0.25]);
  });

  it('008 carries the rollups stored before it over, each bucket once, and 009 drops the old tables', async () => {
    expect(await rollup('metric_samples_1m_v2', 'minute', 9)).toEqual([
      { min: 5, max: 7, sum: 12, count: 2, last: 7 },
      { min: 3, max: 3, sum: 3, count: 1, last: 3 },
    ]);
    expect(await rollup('metric_samples_1h_v2', 'hour', 9)).toEqual([{ min: 3, max: 7, sum: 15, count: 3, last: 3 }]);
    const rows = await store.query<{ n: string | number }>('copied rows', 'SELECT count() AS n FROM metric_samples_1m_v2 WHERE series_id = 9');
    expect(Number(rows[0]!.n)).toBe(2);
    expect((await tables()).map((t) => t.name).filter((name) => name.endsWith('_v1') && name.includes('_1'))).toEqual([]);
  });

  it('a sample stored after 008 in a copied bucket becomes its last (the old last is stamped at the bucket start)', async () => {
    await store.command('after 008', `INSERT INTO metric_samples_v1 VALUES (9, '${DAY} 10:01:00.500', 4)`);
    expect(await rollup('metric_samples_1m_v2', 'minute', 9)).toEqual([
      { min: 5, max: 7, sum: 12, count: 2, last: 7 },
      { min: 3, max: 4, sum: 7, count: 2, last: 4 },
    ]);
    expect(await rollup('metric_samples_1h_v2', 'hour', 9)).toEqual([{ min: 3, max: 7, sum: 19, count: 4, last: 4 }]);
  });

  it('a changed retention is applied by ALTER ... MODIFY TTL', async () => {
    const short = { ...ctx, retentionDays: 7 };
    expect(await migrate(store, short)).toEqual([]);
    // ClickHouse stores `INTERVAL 7 DAY` normalised as `toIntervalDay(7)`.
    const samples = await createQuery('metric_samples_v1');
    expect(samples).toContain('TTL toDateTime(ts) + toIntervalDay(7) ');
    expect(samples).not.toContain('toIntervalDay(30)');
    // Series rows name the rollups' series too: they keep the longer (rollup) retention.
    expect(await createQuery('metric_series_v1')).toContain('TTL day + toIntervalDay(400) ');
    // Rollups keep their own retention.
    expect(await createQuery('metric_samples_1m_v2')).toContain('TTL minute + toIntervalDay(400) ');
    expect(await createQuery('metric_samples_1h_v2')).toContain('TTL hour + toIntervalDay(400) ');

    const before = await tables();
    expect(await migrate(store, short)).toEqual([]);
    expect(await tables()).toEqual(before);
    expect(before.map((t) => t.name)).toEqual(afterFirst.map((t) => t.name));
    // Rows written before the change and not yet expired under it are still there.
    const raw = await store.query<{ n: string | number }>('raw', 'SELECT count() AS n FROM metric_samples_v1');
    expect(Number(raw[0]!.n)).toBe(4 + 3 + 4); // series 9, 1 and 2 above
  });

  it('a shorter retention removes the days already stored past it (the new TTL is materialised)', async () => {
    // A 10-day-old sample under a 30-day retention: kept, merges or not.
    await migrate(store, { ...ctx, retentionDays: 30 });
    const old = Date.now() - 10 * 86_400_000;
    await store.command('old sample', `INSERT INTO metric_samples_v1 (series_id, ts, value) VALUES (424242, fromUnixTimestamp64Milli(${old}), 1)`);
    const oldRows = async () => Number((await store.query<{ n: string | number }>('old', 'SELECT count() AS n FROM metric_samples_v1 WHERE series_id = 424242'))[0]!.n);
    await store.command('merge', 'OPTIMIZE TABLE metric_samples_v1 FINAL');
    expect(await oldRows()).toBe(1);
    // Down to 2 days: the part written under 30 goes too.
    await migrate(store, { ...ctx, retentionDays: 2 });
    expect(await rowsAfterTtlMerges('metric_samples_v1', oldRows, 0)).toBe(0);
    await migrate(store, { ...ctx, retentionDays: 7 });
  });

  it('alert events past their retention go; what reads count of them (alert_activity_v1) stays', async () => {
    const definition = await createQuery('alert_events_v1');
    expect(definition).toContain('TTL toStartOfDay(received_at) + toIntervalDay(400)');
    // 014: a changed retention recomputes each part's TTL rather than rewriting every part.
    expect(definition).toContain('materialize_ttl_recalculate_only = 1');
    const old = Date.now() - 10 * 86_400_000;
    await store.command('old event', `INSERT INTO alert_events_v1 (received_at, fingerprint) VALUES (fromUnixTimestamp64Milli(${old}), 'fp-aged'), (now64(3), 'fp-aged')`);
    const events = async () => Number((await store.query<{ n: string | number }>('aged', "SELECT count() AS n FROM alert_events_v1 WHERE fingerprint = 'fp-aged'"))[0]!.n);
    await store.command('merge', 'OPTIMIZE TABLE alert_events_v1 FINAL');
    expect(await events()).toBe(2);
    await migrate(store, { ...ctx, alertEventRetentionDays: 5 });
    expect(await createQuery('alert_events_v1')).toContain('TTL toStartOfDay(received_at) + toIntervalDay(5)');
    expect(await rowsAfterTtlMerges('alert_events_v1', events, 1)).toBe(1);
    const [activity] = await store.query<{ n: string | number }>('activity', "SELECT sum(events) AS n FROM alert_activity_v1 WHERE fingerprint = 'fp-aged'");
    expect(Number(activity!.n)).toBe(2);
    // Back to the retentions the tests before left in force.
    await migrate(store, { ...ctx, retentionDays: 7 });
  });

  // ClickHouse stores the TTL as `toIntervalDay(N)`; a run that only compared against
  // `INTERVAL N DAY` re-issued ALTER ... MODIFY TTL on every start (ON CLUSTER on a cluster).
  it('a run with unchanged retention issues no ALTER', async () => {
    const issued: string[] = [];
    const recording: Store = {
      ...store,
      command: (name, sql, params) => {
        issued.push(sql);
        return store.command(name, sql, params);
      },
    };
    expect(await migrate(recording, { ...ctx, retentionDays: 7 })).toEqual([]);
    expect(issued.filter((sql) => sql.startsWith('ALTER'))).toEqual([]);
  });
});
