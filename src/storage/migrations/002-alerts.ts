import { createTableStatements } from '../ddl.js';
import type { Migration } from './migration.js';

/**
 * Alerts: every received alert event, append-only (the evidence ISO 20000 audits ask for),
 * and the current state of each alert by fingerprint, versioned (ReplacingMergeTree: read
 * with FINAL or argMax).
 */
export const alertsMigration: Migration = {
  version: 2,
  name: 'alerts',
  statements: (ctx) => [
    ...createTableStatements(ctx, {
      name: 'alert_events_v1',
      columns: [
        "received_at DateTime64(3, 'UTC')",
        'fingerprint String',
        'source LowCardinality(String)',
        'status LowCardinality(String)',
        'severity LowCardinality(String)',
        'labels Map(LowCardinality(String), String)',
        'annotations Map(LowCardinality(String), String)',
        "starts_at DateTime64(3, 'UTC')",
        "ends_at Nullable(DateTime64(3, 'UTC'))",
        'generator_url String',
        'group_key String',
      ],
      engine: 'MergeTree',
      partitionBy: 'toYYYYMM(received_at)',
      orderBy: '(fingerprint, received_at)',
      shardingKey: 'cityHash64(fingerprint)',
    }),
    ...createTableStatements(ctx, {
      name: 'alerts_v1',
      columns: [
        'fingerprint String',
        'source LowCardinality(String)',
        'status LowCardinality(String)',
        'severity LowCardinality(String)',
        'labels Map(LowCardinality(String), String)',
        'annotations Map(LowCardinality(String), String)',
        "starts_at DateTime64(3, 'UTC')",
        "ends_at Nullable(DateTime64(3, 'UTC'))",
        'generator_url String',
        "first_seen_at DateTime64(3, 'UTC')",
        "last_seen_at DateTime64(3, 'UTC')",
        "resolved_at Nullable(DateTime64(3, 'UTC'))",
        'event_count UInt64',
        // Higher wins: ms of the change × 1000 + a per-process sequence.
        'version UInt64',
      ],
      engine: 'ReplacingMergeTree',
      engineArgs: ['version'],
      orderBy: 'fingerprint',
      shardingKey: 'cityHash64(fingerprint)',
    }),
  ],
};
