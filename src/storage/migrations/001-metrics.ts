import { createMaterializedViewStatement, createTableStatements, fsyncSettings, type DdlContext } from '../ddl.js';
import type { Migration } from './migration.js';

/**
 * Retention expressions of this migration's tables. The retention check after migrations
 * uses those of the tables still in use (./retention.ts); 008 replaced the rollups.
 */
export const metricsRetentionTtl = {
  metric_series_v1: (ctx: DdlContext) => `day + INTERVAL ${ctx.retentionDays} DAY`,
  metric_samples_v1: (ctx: DdlContext) => `toDateTime(ts) + INTERVAL ${ctx.retentionDays} DAY`,
  metric_samples_1m_v1: (ctx: DdlContext) => `minute + INTERVAL ${ctx.rollupRetentionDays} DAY`,
  metric_samples_1h_v1: (ctx: DdlContext) => `hour + INTERVAL ${ctx.rollupRetentionDays} DAY`,
} as const;

/**
 * Metric storage on the layout of ClickHouse's TimeSeries engine (series + samples), with
 * codecs chosen by measurement (research/ingest.md §4.3: 0.70 B/sample on node-exporter-like
 * data vs 6.5 B without codecs), daily partitions, TTL dropping whole parts, and 1 m / 1 h
 * rollups for long ranges and forecasting.
 */
export const metricsMigration: Migration = {
  version: 1,
  name: 'metrics',
  statements: (ctx) => [
    // One row per series per day it was written: listing by time range stays cheap, and the
    // writer inserts a series row only the first time it sees a series on a given day.
    ...createTableStatements(ctx, {
      name: 'metric_series_v1',
      columns: [
        'day Date',
        'series_id UInt64',
        'metric_name LowCardinality(String)',
        'labels Map(LowCardinality(String), String) CODEC(ZSTD(3))',
        "source LowCardinality(String)",
      ],
      engine: 'ReplacingMergeTree',
      partitionBy: 'toYYYYMM(day)',
      orderBy: '(metric_name, series_id, day)',
      ttl: metricsRetentionTtl.metric_series_v1(ctx),
      settings: { ttl_only_drop_parts: 1, non_replicated_deduplication_window: 1000, ...fsyncSettings(ctx) },
      shardingKey: 'series_id',
    }),
    ...createTableStatements(ctx, {
      name: 'metric_samples_v1',
      columns: [
        'series_id UInt64 CODEC(Delta, ZSTD(1))',
        'ts DateTime64(3) CODEC(DoubleDelta, ZSTD(1))',
        // Delta+ZSTD wins on counters and constants, the bulk of infrastructure metrics.
        'value Float64 CODEC(Delta, ZSTD(1))',
      ],
      engine: 'MergeTree',
      partitionBy: 'toDate(ts)',
      orderBy: '(series_id, ts)',
      ttl: metricsRetentionTtl.metric_samples_v1(ctx),
      // The dedup window lets a replayed write-ahead segment (same token) be dropped.
      settings: { ttl_only_drop_parts: 1, non_replicated_deduplication_window: 1000, ...fsyncSettings(ctx) },
      shardingKey: 'series_id',
    }),
    ...createTableStatements(ctx, {
      name: 'metric_samples_1m_v1',
      columns: [
        'series_id UInt64 CODEC(Delta, ZSTD(1))',
        'minute DateTime CODEC(DoubleDelta, ZSTD(1))',
        'min SimpleAggregateFunction(min, Float64)',
        'max SimpleAggregateFunction(max, Float64)',
        'sum SimpleAggregateFunction(sum, Float64)',
        'count SimpleAggregateFunction(sum, UInt64)',
        'last AggregateFunction(argMax, Float64, DateTime64(3))',
      ],
      engine: 'AggregatingMergeTree',
      partitionBy: 'toYYYYMM(minute)',
      orderBy: '(series_id, minute)',
      ttl: metricsRetentionTtl.metric_samples_1m_v1(ctx),
      settings: { ttl_only_drop_parts: 1 },
      shardingKey: 'series_id',
    }),
    // Stale markers and other non-finite values stay in raw samples but out of aggregates.
    // The bucket is named `minute`, not `ts`: an alias `ts` would shadow the column in argMaxState.
    createMaterializedViewStatement(ctx, {
      name: 'metric_samples_1m_mv_v1',
      from: 'metric_samples_v1',
      to: 'metric_samples_1m_v1',
      select: `SELECT series_id, toStartOfMinute(ts) AS minute, min(value) AS min, max(value) AS max, sum(value) AS sum,
       count() AS count, argMaxState(value, ts) AS last
FROM {from} WHERE isFinite(value)
GROUP BY series_id, minute`,
    }),
    ...createTableStatements(ctx, {
      name: 'metric_samples_1h_v1',
      columns: [
        'series_id UInt64 CODEC(Delta, ZSTD(1))',
        'hour DateTime CODEC(DoubleDelta, ZSTD(1))',
        'min SimpleAggregateFunction(min, Float64)',
        'max SimpleAggregateFunction(max, Float64)',
        'sum SimpleAggregateFunction(sum, Float64)',
        'count SimpleAggregateFunction(sum, UInt64)',
        'last AggregateFunction(argMax, Float64, DateTime64(3))',
      ],
      engine: 'AggregatingMergeTree',
      partitionBy: 'toYYYYMM(hour)',
      orderBy: '(series_id, hour)',
      ttl: metricsRetentionTtl.metric_samples_1h_v1(ctx),
      settings: { ttl_only_drop_parts: 1 },
      shardingKey: 'series_id',
    }),
    // Cascades from the minute table: each insert block there holds partial states.
    createMaterializedViewStatement(ctx, {
      name: 'metric_samples_1h_mv_v1',
      from: 'metric_samples_1m_v1',
      to: 'metric_samples_1h_v1',
      select: `SELECT series_id, toStartOfHour(minute) AS hour, min(min) AS min, max(max) AS max, sum(sum) AS sum,
       sum(count) AS count, argMaxMergeState(last) AS last
FROM {from}
GROUP BY series_id, hour`,
    }),
  ],
};
