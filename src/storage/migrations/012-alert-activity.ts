import { addColumnStatements, createMaterializedViewStatement, createTableStatements, replayedInsertSettings } from '../ddl.js';
import type { Migration } from './migration.js';

/**
 * Per alert, what its stored events add up to: how many, the latest one's time and its
 * `endsAt` (the lease). Kept by a view on `alert_events_v1`, so a re-send that changes
 * nothing but these (most of them: Prometheus renews the lease every minute) needs only its
 * event row, not a second, wider row in `alerts_v1`; reads take these figures from here
 * (alerts.queries.ts). Measured under the alert bench (100k alerts re-sent 5 times, 2 cores),
 * the state row per re-send cost about a quarter of all CPU; this view costs a few percent.
 *
 * "Per alert" is per fingerprint and first-seen time, as the service counts: an alert
 * forgotten from memory that fires again starts anew. Event rows carry that time from now on;
 * rows stored before (and old-format journal lines replayed after) get 1970, which no alert
 * has, so they count nowhere. Until this migration every event also wrote a state row, so the
 * latest state rows hold exact figures: they seed the table, each alert once (skipped when
 * there, so the statement can run again after an interruption). Nothing inserts while
 * migrations run (the service serves after them, and replays before them).
 */
export const alertActivityMigration: Migration = {
  version: 12,
  name: 'alert-activity',
  statements: (ctx) => [
    ...addColumnStatements(ctx, 'alert_events_v1', "first_seen_at DateTime64(3, 'UTC') DEFAULT toDateTime64(0, 3, 'UTC')"),
    ...createTableStatements(ctx, {
      name: 'alert_activity_v1',
      columns: [
        'fingerprint String',
        "first_seen_at DateTime64(3, 'UTC')",
        'events SimpleAggregateFunction(sum, UInt64)',
        // The latest event's time and lease (null: it had none), as the greatest tuple: a
        // plain max, cheaper to keep than an argMax state. Read with `.1` and `.2`.
        "latest SimpleAggregateFunction(max, Tuple(DateTime64(3, 'UTC'), Nullable(DateTime64(3, 'UTC'))))",
      ],
      engine: 'AggregatingMergeTree',
      orderBy: '(fingerprint, first_seen_at)',
      // A replayed journal file adds to the view only what its first insert did not (store.ts).
      settings: replayedInsertSettings(ctx, 10_000),
      shardingKey: 'cityHash64(fingerprint)',
    }),
    `INSERT INTO alert_activity_v1${ctx.cluster ? ' SETTINGS distributed_foreground_insert = 1' : ''}
SELECT fingerprint, first_seen_at, event_count, tuple(last_seen_at, ends_at)
FROM alerts_v1 FINAL
WHERE (fingerprint, first_seen_at) GLOBAL NOT IN (SELECT fingerprint, first_seen_at FROM alert_activity_v1)`,
    createMaterializedViewStatement(ctx, {
      name: 'alert_activity_mv_v1',
      from: 'alert_events_v1',
      to: 'alert_activity_v1',
      select: `SELECT fingerprint, first_seen_at, count() AS events, max(tuple(received_at, ends_at)) AS latest
FROM {from}
GROUP BY fingerprint, first_seen_at`,
    }),
  ],
};
