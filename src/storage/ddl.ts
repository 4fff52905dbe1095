/**
 * DDL builders, pure. The same table definition gives single-node DDL or, with a cluster,
 * `ReplicatedMergeTree` local tables `ON CLUSTER` plus a `Distributed` table under the
 * plain name, so the SQL that reads and writes is the same in every mode.
 */
export interface DdlContext {
  /** ClickHouse cluster name (remote_servers); undefined on one node or embedded. */
  cluster: string | undefined;
  retentionDays: number;
  rollupRetentionDays: number;
  alertEventRetentionDays: number;
  /** fsync parts before an insert returns: acknowledged rows survive power loss. */
  fsync: boolean;
}

export type MergeTreeKind = 'MergeTree' | 'ReplacingMergeTree' | 'AggregatingMergeTree';

export interface TableSpec {
  name: string;
  columns: string[];
  engine: MergeTreeKind;
  /** Arguments of the engine, e.g. the version column of ReplacingMergeTree. */
  engineArgs?: string[];
  orderBy: string;
  partitionBy?: string;
  ttl?: string;
  settings?: Record<string, string | number>;
  /** Sharding key of the Distributed table in cluster mode; `rand()` when absent. */
  shardingKey?: string;
}

/** Name of the table that holds the rows: `<name>_local` on a cluster, `<name>` otherwise. */
export function storageTableName(ctx: DdlContext, name: string): string {
  return ctx.cluster ? `${name}_local` : name;
}

function onCluster(ctx: DdlContext): string {
  return ctx.cluster ? ` ON CLUSTER ${quoteIdentifier(ctx.cluster)}` : '';
}

export function quoteIdentifier(name: string): string {
  return '`' + name.replaceAll('\\', '\\\\').replaceAll('`', '\\`') + '`';
}

export function createTableStatements(ctx: DdlContext, spec: TableSpec): string[] {
  const local = storageTableName(ctx, spec.name);
  const args = spec.engineArgs ?? [];
  const engine = ctx.cluster
    ? `Replicated${spec.engine}(${["'/clickhouse/tables/{shard}/{database}/" + local + "'", "'{replica}'", ...args].join(', ')})`
    : `${spec.engine}(${args.join(', ')})`;
  const lines = [
    `CREATE TABLE IF NOT EXISTS ${local}${onCluster(ctx)} (`,
    spec.columns.map((c) => `  ${c}`).join(',\n'),
    `) ENGINE = ${engine}`,
  ];
  if (spec.partitionBy) lines.push(`PARTITION BY ${spec.partitionBy}`);
  lines.push(`ORDER BY ${spec.orderBy}`);
  if (spec.ttl) lines.push(`TTL ${spec.ttl}`);
  const settings = Object.entries(spec.settings ?? {});
  if (settings.length > 0) lines.push(`SETTINGS ${settings.map(([k, v]) => `${k} = ${v}`).join(', ')}`);
  const statements = [lines.join('\n')];
  if (ctx.cluster) {
    statements.push(
      `CREATE TABLE IF NOT EXISTS ${spec.name}${onCluster(ctx)} AS ${local}\n` +
        `ENGINE = Distributed(${quoteIdentifier(ctx.cluster)}, currentDatabase(), ${local}, ${spec.shardingKey ?? 'rand()'})`,
    );
  }
  return statements;
}

/**
 * A materialized view from one stored table into another. On a cluster it reads and writes
 * the local tables, so each shard aggregates its own rows.
 */
export function createMaterializedViewStatement(ctx: DdlContext, spec: { name: string; from: string; to: string; select: string }): string {
  const from = storageTableName(ctx, spec.from);
  const to = storageTableName(ctx, spec.to);
  return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${spec.name}${onCluster(ctx)} TO ${to} AS\n${spec.select.replaceAll('{from}', from)}`;
}

export function createDatabaseStatement(ctx: Pick<DdlContext, 'cluster'>, database: string): string {
  return `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(database)}${ctx.cluster ? ` ON CLUSTER ${quoteIdentifier(ctx.cluster)}` : ''}`;
}

/**
 * Adds a column to an existing table, idempotently. On a cluster the `_local` tables get it
 * `ON CLUSTER` and so does the `Distributed` table over them (it has its own column list).
 * `column` is a column definition as in `TableSpec.columns`; give it a DEFAULT for old rows.
 */
export function addColumnStatements(ctx: DdlContext, table: string, column: string): string[] {
  const statements = [`ALTER TABLE ${storageTableName(ctx, table)}${onCluster(ctx)} ADD COLUMN IF NOT EXISTS ${column}`];
  if (ctx.cluster) statements.push(`ALTER TABLE ${table}${onCluster(ctx)} ADD COLUMN IF NOT EXISTS ${column}`);
  return statements;
}

/**
 * Changes the type of existing columns, idempotently (a column already of the type is left
 * as it is). Stored parts are converted by a mutation. On a cluster as addColumnStatements.
 * `columns` are `name Type` definitions.
 */
export function modifyColumnStatements(ctx: DdlContext, table: string, columns: readonly string[]): string[] {
  const changes = columns.map((c) => `MODIFY COLUMN ${c}`).join(', ');
  const statements = [`ALTER TABLE ${storageTableName(ctx, table)}${onCluster(ctx)} ${changes}`];
  if (ctx.cluster) statements.push(`ALTER TABLE ${table}${onCluster(ctx)} ${changes}`);
  return statements;
}

/** MergeTree settings that make acknowledged rows survive power loss: parts synced before an insert returns. */
export function fsyncSettings(ctx: DdlContext): Record<string, number> {
  return ctx.fsync ? { fsync_after_insert: 1, fsync_part_directory: 1 } : {};
}

/**
 * Settings of a table whose inserts come from files Vigil deletes once inserted (write-ahead
 * segments, journal files) or from views on such tables: a deduplication window, so a file
 * replayed after a crash inserts nothing twice (replicated tables on a cluster keep one by
 * default), and fsync as configured.
 */
export function replayedInsertSettings(ctx: DdlContext, window: number): Record<string, number> {
  return { ...(ctx.cluster ? {} : { non_replicated_deduplication_window: window }), ...fsyncSettings(ctx) };
}

/** Changes MergeTree settings of an existing table (its `_local` tables on a cluster); idempotent. */
export function modifySettingsStatement(ctx: DdlContext, table: string, settings: Record<string, string | number>): string {
  const list = Object.entries(settings).map(([k, v]) => `${k} = ${v}`);
  return `ALTER TABLE ${storageTableName(ctx, table)}${onCluster(ctx)} MODIFY SETTING ${list.join(', ')}`;
}

/**
 * Changes a table's TTL, for the parts already stored too: with the tables'
 * materialize_ttl_recalculate_only (migration 010) the engine recomputes each part's TTL
 * from its columns rather than rewriting it, and drops the parts that expired.
 */
export function modifyTtlStatement(ctx: DdlContext, table: string, ttl: string): string {
  return `ALTER TABLE ${storageTableName(ctx, table)}${onCluster(ctx)} MODIFY TTL ${ttl}`;
}

/**
 * Drops a table if it exists: on a cluster the `Distributed` table under the plain name and
 * the `_local` tables under it, `ON CLUSTER`.
 */
export function dropTableStatements(ctx: DdlContext, table: string): string[] {
  const statements = [`DROP TABLE IF EXISTS ${table}${onCluster(ctx)}`];
  if (ctx.cluster) statements.push(`DROP TABLE IF EXISTS ${storageTableName(ctx, table)}${onCluster(ctx)}`);
  return statements;
}

/** Drops a materialized view if it exists (views live beside the local tables, one name). */
export function dropViewStatement(ctx: DdlContext, view: string): string {
  return `DROP VIEW IF EXISTS ${view}${onCluster(ctx)}`;
}
