import { createTableStatements } from '../ddl.js';
import type { Migration } from './migration.js';

/** Outbound notification attempts: one row per attempt, the delivery log the API shows. */
export const notificationsMigration: Migration = {
  version: 4,
  name: 'notifications',
  statements: (ctx) =>
    createTableStatements(ctx, {
      name: 'notification_attempts_v1',
      columns: [
        "at DateTime64(3, 'UTC')",
        'delivery_id String',
        'route LowCardinality(String)',
        'incident_id String',
        'kind LowCardinality(String)',
        'attempt UInt16',
        'outcome LowCardinality(String)',
        'http_status UInt16',
        'error String',
      ],
      engine: 'MergeTree',
      partitionBy: 'toYYYYMM(at)',
      orderBy: '(at, delivery_id, attempt)',
      shardingKey: 'cityHash64(delivery_id)',
    }),
};
