import { addColumnStatements, createTableStatements } from '../ddl.js';
import type { Migration } from './migration.js';

/**
 * Incident escalation level and worst severity on the incident's state, and the durable
 * notification queue: one versioned row per delivery (pending until delivered or given up),
 * written with the incident change that called for it and read back at start to resume.
 */
export const escalationDeliveriesMigration: Migration = {
  version: 6,
  name: 'escalation-deliveries',
  statements: (ctx) => [
    ...addColumnStatements(ctx, 'incidents_v1', 'escalation_level UInt8 DEFAULT 0'),
    // Empty on rows written before this migration: recomputed from the members at start.
    ...addColumnStatements(ctx, 'incidents_v1', "severity LowCardinality(String) DEFAULT ''"),
    ...createTableStatements(ctx, {
      name: 'notification_deliveries_v1',
      columns: [
        'delivery_id String',
        "created_at DateTime64(3, 'UTC')",
        "updated_at DateTime64(3, 'UTC')",
        'route LowCardinality(String)',
        'incident_id String',
        'kind LowCardinality(String)',
        // The request body as first rendered: a retry (or a resume after restart) sends the same bytes.
        'body String',
        // pending | delivered | failed
        'state LowCardinality(String)',
        'attempts UInt16',
        // attempts × 2, + 1 once final: grows with progress, whatever the clock says across restarts.
        'version UInt64',
      ],
      engine: 'ReplacingMergeTree',
      engineArgs: ['version'],
      // Every version of a delivery shares created_at, so they meet in one partition.
      partitionBy: 'toYYYYMM(created_at)',
      orderBy: 'delivery_id',
      shardingKey: 'cityHash64(delivery_id)',
    }),
  ],
};
