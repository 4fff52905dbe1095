import { createMaterializedViewStatement, createTableStatements } from '../ddl.js';
import type { Migration } from './migration.js';

/**
 * Per alert, what its stored events add up to: how many, the latest one's time and its
 * `endsAt` (the lease). Kept by a view on `alert_events_v1`, so a re-send that changes
 * nothing but these (most of them: Prometheus renews the lease every minute) needs only its
 * event row, not a second, wider row in `alerts_v1`; reads take these figures from here
 * (alerts.queries.ts). Measured under the alert bench (100k alerts re-sent 5 times, 2 cores),
 * the state row per re-send cost about a quarter of all CPU; this view costs a few percent.
 *
 * Events stored before the view are counted once by the copy below; buckets already counted
 * are skipped, so the statement can run again after an interruption. Nothing inserts events
 * while migrations run (the service serves after them).
 */
export const alertActivityMigration: Migration = {
  version: 12,
  name: 'alert-activity',
  statements: (ctx) => [
    ...createTableStatements(ctx, {
      name: 'alert_activity_v1',
      columns: [
        'fingerprint String',
        'events SimpleAggregateFunction(sum, UInt64)',
        // The latest event's time and lease (null: it had none), as the greatest tuple: a
        // plain max, cheaper to keep than an argMax state. Read with `.1` and `.2`.
        "latest SimpleAggregateFunction(max, Tuple(DateTime64(3, 'UTC'), Nullable(DateTime64(3, 'UTC'))))",
      ],
      engine: 'AggregatingMergeTree',
      orderBy: 'fingerprint',
      // A replayed journal file adds to the view only what its first insert did not (store.ts).
      settings: { ...(ctx.cluster ? {} : { non_replicated_deduplication_window: 10_000 }), ...(ctx.fsync ? { fsync_after_insert: 1, fsync_part_directory: 1 } : {}) },
      shardingKey: 'cityHash64(fingerprint)',
    }),
    `INSERT INTO alert_activity_v1${ctx.cluster ? ' SETTINGS distributed_foreground_insert = 1' : ''}
SELECT fingerprint, count(), max(tuple(received_at, ends_at))
FROM alert_events_v1
WHERE fingerprint GLOBAL NOT IN (SELECT fingerprint FROM alert_activity_v1)
GROUP BY fingerprint`,
    createMaterializedViewStatement(ctx, {
      name: 'alert_activity_mv_v1',
      from: 'alert_events_v1',
      to: 'alert_activity_v1',
      select: `SELECT fingerprint, count() AS events, max(tuple(received_at, ends_at)) AS latest
FROM {from}
GROUP BY fingerprint`,
    }),
  ],
};
