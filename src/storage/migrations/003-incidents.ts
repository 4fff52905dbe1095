import { createTableStatements } from '../ddl.js';
import type { Migration } from './migration.js';

/** Incidents: current state versioned (ReplacingMergeTree), member alerts, and the append-only timeline. */
export const incidentsMigration: Migration = {
  version: 3,
  name: 'incidents',
  statements: (ctx) => [
    ...createTableStatements(ctx, {
      name: 'incidents_v1',
      columns: [
        'id String',
        'title String',
        'status LowCardinality(String)',
        'priority LowCardinality(String)',
        'group_key String',
        'services Array(String)',
        'cis Array(String)',
        // Members are rows of incident_alerts_v1: rewriting a growing list per join would be quadratic.
        'alert_count UInt32',
        "created_at DateTime64(3, 'UTC')",
        "acknowledged_at Nullable(DateTime64(3, 'UTC'))",
        "resolved_at Nullable(DateTime64(3, 'UTC'))",
        "closed_at Nullable(DateTime64(3, 'UTC'))",
        'assignee Nullable(String)',
        "response_due_at DateTime64(3, 'UTC')",
        "resolution_due_at DateTime64(3, 'UTC')",
        'sla_breached Bool',
        'related_incident_id Nullable(String)',
        "all_alerts_resolved_at Nullable(DateTime64(3, 'UTC'))",
        // JSON list of {startMs, endMs|null}: time waiting on a third party, off the SLA clocks.
        "pauses String DEFAULT '[]'",
        'version UInt64',
      ],
      engine: 'ReplacingMergeTree',
      engineArgs: ['version'],
      orderBy: 'id',
      shardingKey: 'cityHash64(id)',
    }),
    ...createTableStatements(ctx, {
      name: 'incident_alerts_v1',
      columns: ['incident_id String', 'fingerprint String', "joined_at DateTime64(3, 'UTC')"],
      engine: 'ReplacingMergeTree',
      orderBy: '(incident_id, fingerprint)',
      shardingKey: 'cityHash64(incident_id)',
    }),
    ...createTableStatements(ctx, {
      name: 'incident_events_v1',
      columns: ['incident_id String', "at DateTime64(3, 'UTC')", 'seq UInt64', 'actor String', 'kind LowCardinality(String)', 'detail String'],
      engine: 'MergeTree',
      partitionBy: 'toYYYYMM(at)',
      orderBy: '(incident_id, at, seq)',
      shardingKey: 'cityHash64(incident_id)',
    }),
  ],
};
