import type { Logger } from 'pino';
import { createTableStatements, modifyTtlStatement, type DdlContext } from './ddl.js';
import { migrations as allMigrations, retentionTtl, type Migration } from './migrations/index.js';
import type { Store } from './store.js';

const migrationsTable = (ctx: DdlContext) =>
  createTableStatements(ctx, {
    name: 'schema_migrations',
    columns: ['version UInt32', 'name String', 'applied_at DateTime64(3)'],
    engine: 'ReplacingMergeTree',
    orderBy: 'version',
  });

/**
 * The latest migration applied to this store, 0 for a store never migrated (no
 * `schema_migrations` table yet). Read before migrating: files a previous run left behind
 * were written for that schema (see openStorage in main.ts).
 */
export async function schemaVersion(store: Store): Promise<number> {
  await store.ensureDatabase();
  const [table] = await store.query<{ n: string | number }>(
    'schema_migrations exists',
    "SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = 'schema_migrations'",
  );
  if (Number(table?.n ?? 0) === 0) return 0;
  const [latest] = await store.query<{ v: string | number }>('schema version', 'SELECT max(version) AS v FROM schema_migrations');
  return Number(latest?.v ?? 0);
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in order, then brings the
 * tables' TTLs in line with the configured retention. Idempotent: a second run changes nothing.
 * Returns the versions it applied.
 */
export async function migrate(store: Store, ctx: DdlContext, logger?: Logger, migrations: readonly Migration[] = allMigrations): Promise<number[]> {
  await store.ensureDatabase();
  for (const statement of migrationsTable(ctx)) await store.command('create schema_migrations', statement);
  const rows = await store.query<{ version: number }>('applied migrations', 'SELECT DISTINCT version FROM schema_migrations');
  const applied = new Set(rows.map((r) => Number(r.version)));
  const done: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(migration.version)) continue;
    for (const statement of migration.statements(ctx)) await store.command(`migration ${migration.version}`, statement);
    await store.command(
      'record migration',
      'INSERT INTO schema_migrations (version, name, applied_at) VALUES ({version:UInt32}, {name:String}, now64(3))',
      { version: migration.version, name: migration.name },
    );
    logger?.info({ version: migration.version, name: migration.name }, 'migration applied');
    done.push(migration.version);
  }
  await applyRetention(store, ctx);
  return done;
}

/** Rewrites a table's TTL only when the configured retention differs from the one in force. */
async function applyRetention(store: Store, ctx: DdlContext): Promise<void> {
  const tables = Object.keys(retentionTtl) as (keyof typeof retentionTtl)[];
  const rows = await store.query<{ name: string; create_table_query: string }>(
    'table definitions',
    'SELECT name, create_table_query FROM system.tables WHERE database = currentDatabase() AND name IN {names:Array(String)}',
    { names: tables.map((t) => (ctx.cluster ? `${t}_local` : t)) },
  );
  for (const table of tables) {
    const wanted = retentionTtl[table](ctx);
    const definition = rows.find((r) => r.name === (ctx.cluster ? `${table}_local` : table))?.create_table_query ?? '';
    // ClickHouse stores `INTERVAL 30 DAY` as `toIntervalDay(30)` in create_table_query.
    const days = /(?:INTERVAL (\d+) DAY|toIntervalDay\((\d+)\))/.exec(definition)?.slice(1).find((d) => d !== undefined);
    if (days !== undefined && wanted.endsWith(`INTERVAL ${days} DAY`)) continue;
    if (definition === '') continue;
    await store.command(`retention ${table}`, modifyTtlStatement(ctx, table, wanted));
  }
}
