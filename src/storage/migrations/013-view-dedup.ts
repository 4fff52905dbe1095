import { modifySettingsStatement, replayedInsertSettings } from '../ddl.js';
import type { Migration } from './migration.js';

/**
 * The rollup tables keep a deduplication window, as the tables they are fed from do (001):
 * inserts now deduplicate each view's block on its own (store.ts), so a segment replayed
 * after a crash between its insert and its deletion no longer counts its samples twice in
 * the 1 m and 1 h rollups (the raw table dropped the repeat, its views took it again). And
 * with `fsync`, their parts are on disk before the segment is deleted, like the samples'.
 * Replicated tables on a cluster deduplicate by default.
 */
export const viewDedupMigration: Migration = {
  version: 13,
  name: 'view-dedup',
  statements: (ctx) => {
    const settings = replayedInsertSettings(ctx, 1000);
    if (Object.keys(settings).length === 0) return [];
    return ['metric_samples_1m_v2', 'metric_samples_1h_v2'].map((table) => modifySettingsStatement(ctx, table, settings));
  },
};
