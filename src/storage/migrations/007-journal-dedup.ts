import { modifySettingsStatement, replayedInsertSettings } from '../ddl.js';
import type { Migration } from './migration.js';

/** The tables the row journal (src/storage/row-batcher.ts) inserts into, as of this migration. */
const JOURNALED_TABLES = ['alert_events_v1', 'alerts_v1', 'incidents_v1', 'incident_alerts_v1', 'incident_events_v1', 'notification_attempts_v1', 'notification_deliveries_v1'];

/**
 * The row journal inserts each segment with its id as insert_deduplication_token, so a
 * replay after a crash inserts nothing twice; a MergeTree that is not replicated keeps no
 * token unless given a window (replicated ones keep 10,000 by default: the same here). And
 * the journal deletes a segment once inserted, so with `fsync` the parts must be on disk by
 * then, as for samples (001).
 */
export const journalDedupMigration: Migration = {
  version: 7,
  name: 'journal-dedup',
  statements: (ctx) => {
    const settings = replayedInsertSettings(ctx, 10_000);
    if (Object.keys(settings).length === 0) return [];
    return JOURNALED_TABLES.map((table) => modifySettingsStatement(ctx, table, settings));
  },
};
