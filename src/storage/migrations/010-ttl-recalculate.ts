import { modifySettingsStatement } from '../ddl.js';
import type { Migration } from './migration.js';

/**
 * A changed retention applies to the data already stored. The retention check after the
 * migrations used to change a table's TTL without materialising it
 * (materialize_ttl_after_modify = 0), so parts written before kept the TTL they were written
 * with: a shorter retention never freed closed days (they are not merged again), and a
 * longer one still deleted at the old age (reproduced on chdb). The check now materialises
 * the new TTL; with materialize_ttl_recalculate_only the engine only recomputes each part's
 * TTL from its ts column instead of rewriting the part, and ttl_only_drop_parts then drops
 * the days that expired as whole parts.
 */
export const ttlRecalculateMigration: Migration = {
  version: 10,
  name: 'ttl-recalculate-only',
  statements: (ctx) => TABLES_WITH_TTL_AT_010.map((table) => modifySettingsStatement(ctx, table, { materialize_ttl_recalculate_only: 1 })),
};

/**
 * The retained tables as of this migration. Spelled out: it read `retentionTtl` once, which
 * later gained alert_events_v1 (014 sets it there), and a frozen migration must emit the same
 * statements on every install.
 */
const TABLES_WITH_TTL_AT_010 = ['metric_series_v1', 'metric_samples_v1', 'metric_samples_1m_v2', 'metric_samples_1h_v2'];
