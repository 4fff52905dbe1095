import type { DdlContext } from '../ddl.js';
import { metricsRetentionTtl } from './001-metrics.js';
import { rollupRetentionTtl } from './008-rollup-last.js';

/**
 * Retention expressions of the tables in use, by table: the check after migrations brings
 * each table's TTL in line with the configured retention.
 */
export const retentionTtl = {
  // Series rows name the series of the rollups too: kept for the longer of the two
  // retentions (001 created them with the raw one, so rollups past 30 days had lost the
  // labels to read them by). Tiny next to the samples: a row per series per day written.
  metric_series_v1: (ctx: DdlContext) => `day + INTERVAL ${Math.max(ctx.retentionDays, ctx.rollupRetentionDays)} DAY`,
  metric_samples_v1: metricsRetentionTtl.metric_samples_v1,
  ...rollupRetentionTtl,
  // Every received event, re-sends included: the largest alert table by far. What reads
  // need of old events (how many, the latest) is kept apart in alert_activity_v1 (012).
  // Whole UTC days expire together: a row may leave its maps to an earlier event of the
  // same day (016), which must be kept as long.
  alert_events_v1: (ctx: DdlContext) => `toStartOfDay(received_at) + INTERVAL ${ctx.alertEventRetentionDays} DAY`,
} as const;
