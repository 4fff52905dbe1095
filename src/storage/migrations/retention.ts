import { metricsRetentionTtl } from './001-metrics.js';
import { rollupRetentionTtl } from './008-rollup-last.js';

/**
 * Retention expressions of the tables in use, by table: the check after migrations brings
 * each table's TTL in line with the configured retention.
 */
export const retentionTtl = {
  metric_series_v1: metricsRetentionTtl.metric_series_v1,
  metric_samples_v1: metricsRetentionTtl.metric_samples_v1,
  ...rollupRetentionTtl,
} as const;
