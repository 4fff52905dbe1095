import { describe, it, expect } from 'vitest';
import {
  addColumnStatements,
  modifyColumnStatements,
  createDatabaseStatement,
  createMaterializedViewStatement,
  createTableStatements,
  dropTableStatements,
  dropViewStatement,
  modifySettingsStatement,
  modifyTtlStatement,
  quoteIdentifier,
  storageTableName,
  type DdlContext,
  type TableSpec,
} from '../../src/storage/ddl.js';
import { migrations, retentionTtl } from '../../src/storage/migrations/index.js';

const single: DdlContext = { cluster: undefined, retentionDays: 30, rollupRetentionDays: 400, alertEventRetentionDays: 400, fsync: true };
const singleNoFsync: DdlContext = { ...single, fsync: false };
const cluster: DdlContext = { cluster: 'prod', retentionDays: 30, rollupRetentionDays: 400, alertEventRetentionDays: 400, fsync: true };

const metrics = migrations.find((m) => m.version === 1);
if (!metrics) throw new Error('migration 1 missing');

/** The statement that creates `name` (a table or view), exactly one. */
function statementFor(statements: string[], name: string): string {
  const found = statements.filter((s) => new RegExp(`^CREATE (TABLE|MATERIALIZED VIEW) IF NOT EXISTS ${name}[ (]`).test(s));
  expect(found, `one statement creating ${name}`).toHaveLength(1);
  return found[0]!;
}

describe('quoteIdentifier', () => {
  it.each([
    ['prod', '`prod`'],
    ['a`b', '`a\\`b`'],
    ['``', '`\\`\\``'],
    ['a\\b', '`a\\\\b`'],
    ['a\\`b', '`a\\\\\\`b`'],
  ])('%s -> %s', (input, expected) => {
    expect(quoteIdentifier(input)).toBe(expected);
  });

  it('never leaves an unescaped backtick inside the quotes', () => {
    for (const input of ['x`; DROP TABLE t; --', '`', 'a\\`']) {
      const inner = quoteIdentifier(input).slice(1, -1);
      expect(inner.replaceAll('\\\\', '').replaceAll('\\`', '')).not.toContain('`');
    }
  });
});

describe('storageTableName', () => {
  it.each([
    [single, 't', 't'],
    [cluster, 't', 't_local'],
  ])('cluster %# gives %s', (ctx, name, expected) => {
    expect(storageTableName(ctx, name)).toBe(expected);
  });
});

describe('createTableStatements: generic spec', () => {
  const spec: TableSpec = {
    name: 't_v1',
    columns: ['a UInt64', 'b String'],
    engine: 'ReplacingMergeTree',
    engineArgs: ['ver'],
    orderBy: 'a',
  };

  it('single node: one statement, plain engine with its args, no PARTITION/TTL/SETTINGS when absent', () => {
    const statements = createTableStatements(single, spec);
    expect(statements).toEqual(['CREATE TABLE IF NOT EXISTS t_v1 (\n  a UInt64,\n  b String\n) ENGINE = ReplacingMergeTree(ver)\nORDER BY a']);
  });

  it('cluster: replicated engine keeps the args after the zookeeper path and replica; Distributed defaults to rand()', () => {
    const statements = createTableStatements(cluster, spec);
    expect(statements).toHaveLength(2);
    expect(statements[0]).toContain(
      "CREATE TABLE IF NOT EXISTS t_v1_local ON CLUSTER `prod` (\n  a UInt64,\n  b String\n) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/t_v1_local', '{replica}', ver)",
    );
    expect(statements[1]).toBe(
      'CREATE TABLE IF NOT EXISTS t_v1 ON CLUSTER `prod` AS t_v1_local\nENGINE = Distributed(`prod`, currentDatabase(), t_v1_local, rand())',
    );
  });

  it('quotes a cluster name holding a backtick', () => {
    const statements = createTableStatements({ ...cluster, cluster: 'a`b' }, spec);
    expect(statements[0]).toContain('ON CLUSTER `a\\`b`');
    expect(statements[1]).toContain('Distributed(`a\\`b`, ');
  });
});

describe('createDatabaseStatement and modifyTtlStatement', () => {
  it.each([
    [single, 'CREATE DATABASE IF NOT EXISTS `vigil`'],
    [cluster, 'CREATE DATABASE IF NOT EXISTS `vigil` ON CLUSTER `prod`'],
  ])('database %#', (ctx, expected) => {
    expect(createDatabaseStatement(ctx, 'vigil')).toBe(expected);
  });

  it.each([
    [single, 'ALTER TABLE t MODIFY TTL d + INTERVAL 7 DAY'],
    [cluster, 'ALTER TABLE t_local ON CLUSTER `prod` MODIFY TTL d + INTERVAL 7 DAY'],
  ])('modify TTL %#', (ctx, expected) => {
    expect(modifyTtlStatement(ctx, 't', 'd + INTERVAL 7 DAY')).toBe(expected);
  });
});

describe('createMaterializedViewStatement', () => {
  const spec = { name: 'v_mv', from: 'src', to: 'dst', select: 'SELECT * FROM {from}' };
  it.each([
    [single, 'CREATE MATERIALIZED VIEW IF NOT EXISTS v_mv TO dst AS\nSELECT * FROM src'],
    [cluster, 'CREATE MATERIALIZED VIEW IF NOT EXISTS v_mv ON CLUSTER `prod` TO dst_local AS\nSELECT * FROM src_local'],
  ])('%#', (ctx, expected) => {
    expect(createMaterializedViewStatement(ctx, spec)).toBe(expected);
  });
});

describe('migration 1 (metrics), single node', () => {
  const statements = metrics.statements(single);
  const samples = statementFor(statements, 'metric_samples_v1');

  it('creates each table and view exactly once, tables before the views that write into them', () => {
    const names = statements.map((s) => /^CREATE (?:TABLE|MATERIALIZED VIEW) IF NOT EXISTS (\S+)/.exec(s)?.[1]);
    expect(names).toEqual([
      'metric_series_v1',
      'metric_samples_v1',
      'metric_samples_1m_v1',
      'metric_samples_1m_mv_v1',
      'metric_samples_1h_v1',
      'metric_samples_1h_mv_v1',
    ]);
    expect(statements.join('\n')).not.toContain('_local');
    expect(statements.join('\n')).not.toContain('ON CLUSTER');
    expect(statements.join('\n')).not.toContain('Replicated');
    expect(statements.join('\n')).not.toContain('Distributed');
  });

  it.each([
    ['plain MergeTree', ') ENGINE = MergeTree()\n'],
    ['daily partitions', '\nPARTITION BY toDate(ts)\n'],
    ['order by series then time', '\nORDER BY (series_id, ts)\n'],
    ['retention TTL', '\nTTL toDateTime(ts) + INTERVAL 30 DAY\n'],
    ['ts codec', 'ts DateTime64(3) CODEC(DoubleDelta, ZSTD(1))'],
    ['series_id codec', 'series_id UInt64 CODEC(Delta, ZSTD(1))'],
    ['value codec', 'value Float64 CODEC(Delta, ZSTD(1))'],
    ['fsync settings', 'fsync_after_insert = 1, fsync_part_directory = 1'],
    ['dedup window', 'non_replicated_deduplication_window = 1000'],
    ['whole-part TTL', 'ttl_only_drop_parts = 1'],
  ])('metric_samples_v1: %s', (_what, fragment) => {
    expect(samples.startsWith('CREATE TABLE IF NOT EXISTS metric_samples_v1 (\n')).toBe(true);
    expect(samples).toContain(fragment);
  });

  it.each([
    ['metric_series_v1', ') ENGINE = ReplacingMergeTree()\n', 'TTL day + INTERVAL 30 DAY'],
    ['metric_samples_1m_v1', ') ENGINE = AggregatingMergeTree()\n', 'TTL minute + INTERVAL 400 DAY'],
    ['metric_samples_1h_v1', ') ENGINE = AggregatingMergeTree()\n', 'TTL hour + INTERVAL 400 DAY'],
  ])('%s: engine and TTL', (name, engine, ttl) => {
    const statement = statementFor(statements, name);
    expect(statement).toContain(engine);
    expect(statement).toContain(ttl);
  });

  it.each([
    ['metric_samples_1m_mv_v1', ' TO metric_samples_1m_v1 AS\n', 'FROM metric_samples_v1 WHERE isFinite(value)'],
    ['metric_samples_1h_mv_v1', ' TO metric_samples_1h_v1 AS\n', 'FROM metric_samples_1m_v1\n'],
  ])('%s reads and writes the plain tables', (name, to, from) => {
    const statement = statementFor(statements, name);
    expect(statement).toContain(to);
    expect(statement).toContain(from);
  });

  it('fsync settings appear only when fsync is on', () => {
    const withFsync = statements.join('\n');
    const without = metrics.statements(singleNoFsync).join('\n');
    expect(withFsync.match(/fsync_after_insert = 1/g)).toHaveLength(2); // series + samples
    expect(without).not.toContain('fsync');
    // Everything else is identical.
    expect(withFsync.replaceAll(', fsync_after_insert = 1, fsync_part_directory = 1', '')).toBe(without);
  });

  it.each([
    [7, 90],
    [365, 3650],
  ])('retentionDays %i / rollupRetentionDays %i land in the TTLs', (raw, rollup) => {
    const ctx = { ...single, retentionDays: raw, rollupRetentionDays: rollup };
    const all = metrics.statements(ctx);
    expect(statementFor(all, 'metric_samples_v1')).toContain(`TTL toDateTime(ts) + INTERVAL ${raw} DAY`);
    expect(statementFor(all, 'metric_series_v1')).toContain(`TTL day + INTERVAL ${raw} DAY`);
    expect(statementFor(all, 'metric_samples_1m_v1')).toContain(`TTL minute + INTERVAL ${rollup} DAY`);
    expect(statementFor(all, 'metric_samples_1h_v1')).toContain(`TTL hour + INTERVAL ${rollup} DAY`);
  });

  it.each([
    [7, 90],
    [365, 3650],
  ])('every table the retention check looks after gets its TTL from its migration (%i / %i days)', (raw, rollup) => {
    const ctx = { ...single, retentionDays: raw, rollupRetentionDays: rollup };
    const all = migrations.flatMap((m) => m.statements(ctx));
    expect(Object.keys(retentionTtl)).toEqual(['metric_series_v1', 'metric_samples_v1', 'metric_samples_1m_v2', 'metric_samples_1h_v2', 'alert_events_v1']);
    // Series rows: created with the raw retention by 001; the check at start lengthens it.
    // Alert events: created without one by 002; the check at start adds it (016 sets it by days).
    const setAtStart = ['metric_series_v1', 'alert_events_v1'];
    for (const [table, ttl] of Object.entries(retentionTtl)) if (!setAtStart.includes(table)) expect(statementFor(all, table)).toContain(`TTL ${ttl(ctx)}\n`);
    expect(retentionTtl.alert_events_v1({ ...ctx, alertEventRetentionDays: 90 })).toBe('toStartOfDay(received_at) + INTERVAL 90 DAY');
    expect(retentionTtl.metric_series_v1(ctx)).toBe(`day + INTERVAL ${rollup} DAY`);
    expect(retentionTtl.metric_series_v1({ ...ctx, retentionDays: rollup + 1 })).toBe(`day + INTERVAL ${rollup + 1} DAY`);
  });
});

describe('frozen migrations', () => {
  it('010 names the tables retained when it landed, whatever retention.ts gains later', () => {
    const m010 = migrations.find((m) => m.version === 10)!;
    expect(m010.statements(single)).toEqual(
      ['metric_series_v1', 'metric_samples_v1', 'metric_samples_1m_v2', 'metric_samples_1h_v2'].map((t) => `ALTER TABLE ${t} MODIFY SETTING materialize_ttl_recalculate_only = 1`),
    );
  });
});

describe('migration 1 (metrics), cluster', () => {
  const statements = metrics.statements(cluster);

  it('samples: replicated local table ON CLUSTER plus a Distributed table under the plain name', () => {
    const local = statementFor(statements, 'metric_samples_v1_local');
    expect(local.startsWith('CREATE TABLE IF NOT EXISTS metric_samples_v1_local ON CLUSTER `prod` (\n')).toBe(true);
    expect(local).toContain(") ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/metric_samples_v1_local', '{replica}')\n");
    expect(local).toContain('PARTITION BY toDate(ts)');
    expect(local).toContain('ORDER BY (series_id, ts)');
    expect(local).toContain('TTL toDateTime(ts) + INTERVAL 30 DAY');
    expect(local).toContain('ts DateTime64(3) CODEC(DoubleDelta, ZSTD(1))');
    const distributed = statementFor(statements, 'metric_samples_v1');
    expect(distributed).toBe(
      'CREATE TABLE IF NOT EXISTS metric_samples_v1 ON CLUSTER `prod` AS metric_samples_v1_local\n' +
        'ENGINE = Distributed(`prod`, currentDatabase(), metric_samples_v1_local, series_id)',
    );
  });

  it.each([
    ['metric_series_v1', 'ReplicatedReplacingMergeTree'],
    ['metric_samples_v1', 'ReplicatedMergeTree'],
    ['metric_samples_1m_v1', 'ReplicatedAggregatingMergeTree'],
    ['metric_samples_1h_v1', 'ReplicatedAggregatingMergeTree'],
  ])('%s becomes %s locally, Distributed by series_id', (name, engine) => {
    expect(statementFor(statements, `${name}_local`)).toContain(
      `) ENGINE = ${engine}('/clickhouse/tables/{shard}/{database}/${name}_local', '{replica}')\n`,
    );
    expect(statementFor(statements, name)).toContain(`ENGINE = Distributed(\`prod\`, currentDatabase(), ${name}_local, series_id)`);
  });

  it('no unreplicated MergeTree engine remains', () => {
    for (const s of statements) expect(s).not.toMatch(/ENGINE = (MergeTree|ReplacingMergeTree|AggregatingMergeTree)\(/);
  });

  it.each([
    ['metric_samples_1m_mv_v1', 'metric_samples_1m_v1_local', 'FROM metric_samples_v1_local WHERE'],
    ['metric_samples_1h_mv_v1', 'metric_samples_1h_v1_local', 'FROM metric_samples_1m_v1_local\n'],
  ])('%s reads and writes local tables', (name, to, from) => {
    const statement = statementFor(statements, name);
    expect(statement.startsWith(`CREATE MATERIALIZED VIEW IF NOT EXISTS ${name} ON CLUSTER \`prod\` TO ${to} AS\n`)).toBe(true);
    expect(statement).toContain(from);
  });

  it('every statement runs ON CLUSTER `prod`', () => {
    for (const s of statements) expect(s).toContain(' ON CLUSTER `prod`');
  });
});

describe('modifyColumnStatements', () => {
  it('single node: one ALTER changing every column given', () => {
    expect(modifyColumnStatements(single, 'alerts_v1', ['labels Map(String, String)', 'annotations Map(String, String)'])).toEqual([
      'ALTER TABLE alerts_v1 MODIFY COLUMN labels Map(String, String), MODIFY COLUMN annotations Map(String, String)',
    ]);
  });

  it('cluster: the local tables and the Distributed table over them, ON CLUSTER (migration 15)', () => {
    expect(migrations.find((m) => m.version === 15)!.statements(cluster)).toEqual([
      'ALTER TABLE alert_events_v1_local ON CLUSTER `prod` MODIFY COLUMN labels Map(String, String), MODIFY COLUMN annotations Map(String, String)',
      'ALTER TABLE alert_events_v1 ON CLUSTER `prod` MODIFY COLUMN labels Map(String, String), MODIFY COLUMN annotations Map(String, String)',
      'ALTER TABLE alerts_v1_local ON CLUSTER `prod` MODIFY COLUMN labels Map(String, String), MODIFY COLUMN annotations Map(String, String)',
      'ALTER TABLE alerts_v1 ON CLUSTER `prod` MODIFY COLUMN labels Map(String, String), MODIFY COLUMN annotations Map(String, String)',
    ]);
  });
});

describe('addColumnStatements', () => {
  it('migration 16: seq and repeats on alert events, and a retention by whole days; single node and cluster', () => {
    const m016 = migrations.find((m) => m.version === 16)!;
    expect(m016.statements(single)).toEqual([
      'ALTER TABLE alert_events_v1 ADD COLUMN IF NOT EXISTS seq UInt64 DEFAULT 0',
      'ALTER TABLE alert_events_v1 ADD COLUMN IF NOT EXISTS repeats UInt8 DEFAULT 0',
      `ALTER TABLE alert_events_v1 MODIFY TTL toStartOfDay(received_at) + INTERVAL ${single.alertEventRetentionDays} DAY`,
    ]);
    // The retention check after migrations keeps the same expression.
    expect(retentionTtl.alert_events_v1(single)).toBe(`toStartOfDay(received_at) + INTERVAL ${single.alertEventRetentionDays} DAY`);
    expect(m016.statements(cluster)).toEqual([
      'ALTER TABLE alert_events_v1_local ON CLUSTER `prod` ADD COLUMN IF NOT EXISTS seq UInt64 DEFAULT 0',
      'ALTER TABLE alert_events_v1 ON CLUSTER `prod` ADD COLUMN IF NOT EXISTS seq UInt64 DEFAULT 0',
      'ALTER TABLE alert_events_v1_local ON CLUSTER `prod` ADD COLUMN IF NOT EXISTS repeats UInt8 DEFAULT 0',
      'ALTER TABLE alert_events_v1 ON CLUSTER `prod` ADD COLUMN IF NOT EXISTS repeats UInt8 DEFAULT 0',
      `ALTER TABLE alert_events_v1_local ON CLUSTER \`prod\` MODIFY TTL toStartOfDay(received_at) + INTERVAL ${cluster.alertEventRetentionDays} DAY`,
    ]);
  });

  it('single node: one idempotent ALTER on the table', () => {
    expect(addColumnStatements(single, 'incidents_v1', 'escalation_level UInt8 DEFAULT 0')).toEqual([
      'ALTER TABLE incidents_v1 ADD COLUMN IF NOT EXISTS escalation_level UInt8 DEFAULT 0',
    ]);
  });

  it('cluster: the local tables and the Distributed table over them, ON CLUSTER', () => {
    expect(addColumnStatements(cluster, 'incidents_v1', 'escalation_level UInt8 DEFAULT 0')).toEqual([
      'ALTER TABLE incidents_v1_local ON CLUSTER `prod` ADD COLUMN IF NOT EXISTS escalation_level UInt8 DEFAULT 0',
      'ALTER TABLE incidents_v1 ON CLUSTER `prod` ADD COLUMN IF NOT EXISTS escalation_level UInt8 DEFAULT 0',
    ]);
  });

  it('migration 6 on a cluster: replicated delivery queue with a Distributed table, columns added to both incident tables', () => {
    const statements = migrations.find((m) => m.version === 6)!.statements(cluster);
    expect(statements.filter((s) => s.startsWith('ALTER TABLE incidents_v1_local ON CLUSTER'))).toHaveLength(2);
    expect(statements.filter((s) => s.startsWith('ALTER TABLE incidents_v1 ON CLUSTER'))).toHaveLength(2);
    expect(statementFor(statements, 'notification_deliveries_v1_local')).toContain("ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/notification_deliveries_v1_local', '{replica}', version)");
    expect(statementFor(statements, 'notification_deliveries_v1')).toContain('Distributed(`prod`, currentDatabase(), notification_deliveries_v1_local, cityHash64(delivery_id))');
  });
});

describe('modifySettingsStatement and migration 7 (journal dedup)', () => {
  it('single node: one ALTER per journaled table, dedup window plus fsync when on', () => {
    expect(modifySettingsStatement(single, 'alerts_v1', { non_replicated_deduplication_window: 10000 })).toBe(
      'ALTER TABLE alerts_v1 MODIFY SETTING non_replicated_deduplication_window = 10000',
    );
    const statements = migrations.find((m) => m.version === 7)!.statements(single);
    expect(statements).toHaveLength(7);
    expect(statements[0]).toBe('ALTER TABLE alert_events_v1 MODIFY SETTING non_replicated_deduplication_window = 10000, fsync_after_insert = 1, fsync_part_directory = 1');
    expect(migrations.find((m) => m.version === 7)!.statements(singleNoFsync)[0]).toBe('ALTER TABLE alert_events_v1 MODIFY SETTING non_replicated_deduplication_window = 10000');
  });

  it('cluster: replicated tables keep their own window; only fsync, on the local tables ON CLUSTER', () => {
    const statements = migrations.find((m) => m.version === 7)!.statements(cluster);
    expect(statements[0]).toBe('ALTER TABLE alert_events_v1_local ON CLUSTER `prod` MODIFY SETTING fsync_after_insert = 1, fsync_part_directory = 1');
    expect(migrations.find((m) => m.version === 7)!.statements({ ...cluster, fsync: false })).toEqual([]);
  });
});

describe('migrations 8 and 9 (rollups with a packed `last`)', () => {
  const rollups = migrations.find((m) => m.version === 8)!;
  const drop = migrations.find((m) => m.version === 9)!;

  it('single node: drops the old views, creates the new tables and views, copies the old rows once', () => {
    const statements = rollups.statements(single);
    expect(statements.slice(0, 2)).toEqual(['DROP VIEW IF EXISTS metric_samples_1h_mv_v1', 'DROP VIEW IF EXISTS metric_samples_1m_mv_v1']);
    expect(statementFor(statements, 'metric_samples_1m_v2')).toContain('last SimpleAggregateFunction(max, UInt128)');
    expect(statementFor(statements, 'metric_samples_1m_v2')).toContain(') ENGINE = AggregatingMergeTree()\n');
    expect(statementFor(statements, 'metric_samples_1m_mv_v2')).toContain(' TO metric_samples_1m_v2 AS\n');
    expect(statementFor(statements, 'metric_samples_1m_mv_v2')).toContain('FROM metric_samples_v1 WHERE isFinite(value)');
    expect(statementFor(statements, 'metric_samples_1h_mv_v2')).toContain('FROM metric_samples_1m_v2\n');
    const copies = statements.filter((s) => s.startsWith('INSERT INTO'));
    expect(copies).toHaveLength(2);
    for (const copy of copies) expect(copy).not.toContain('SETTINGS');
    for (const copy of copies) expect(copy).toMatch(/GLOBAL NOT IN \(SELECT series_id, (minute|hour) FROM metric_samples_1[mh]_v2\)/);
    // The copies run before the views exist, so no new sample is rolled up twice.
    const firstView = statements.findIndex((s) => s.startsWith('CREATE MATERIALIZED VIEW'));
    expect(statements.findLastIndex((s) => s.startsWith('INSERT INTO'))).toBeLessThan(firstView);
    expect(drop.statements(single)).toEqual(['DROP TABLE IF EXISTS metric_samples_1h_v1', 'DROP TABLE IF EXISTS metric_samples_1m_v1']);
  });

  it('cluster: views over the local tables, copies through the Distributed tables, drops of both', () => {
    const statements = rollups.statements(cluster);
    expect(statements[0]).toBe('DROP VIEW IF EXISTS metric_samples_1h_mv_v1 ON CLUSTER `prod`');
    expect(statementFor(statements, 'metric_samples_1m_v2_local')).toContain("ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/metric_samples_1m_v2_local', '{replica}')");
    expect(statementFor(statements, 'metric_samples_1m_v2')).toContain('ENGINE = Distributed(`prod`, currentDatabase(), metric_samples_1m_v2_local, series_id)');
    expect(statementFor(statements, 'metric_samples_1m_mv_v2')).toContain(' ON CLUSTER `prod` TO metric_samples_1m_v2_local AS\n');
    expect(statementFor(statements, 'metric_samples_1m_mv_v2')).toContain('FROM metric_samples_v1_local WHERE');
    const copies = statements.filter((s) => s.startsWith('INSERT INTO'));
    expect(copies).toHaveLength(2);
    for (const copy of copies) expect(copy).toContain(' SETTINGS distributed_foreground_insert = 1\n');
    expect(dropViewStatement(cluster, 'v')).toBe('DROP VIEW IF EXISTS v ON CLUSTER `prod`');
    expect(dropTableStatements(cluster, 't')).toEqual(['DROP TABLE IF EXISTS t ON CLUSTER `prod`', 'DROP TABLE IF EXISTS t_local ON CLUSTER `prod`']);
    expect(drop.statements(cluster)).toHaveLength(4);
  });
});

describe('every migration is idempotent in form', () => {
  const contexts: [string, DdlContext][] = [
    ['single', single],
    ['single without fsync', singleNoFsync],
    ['cluster', cluster],
  ];
  it('versions are unique and ascending', () => {
    const versions = migrations.map((m) => m.version);
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
  });

  for (const migration of migrations) {
    it.each(contexts)(`migration ${migration.version} (${migration.name}), %s`, (_label, ctx) => {
      const statements = migration.statements(ctx);
      expect(statements.length).toBeGreaterThan(0);
      for (const s of statements) {
        expect(s, s).toMatch(/^(CREATE (TABLE|MATERIALIZED VIEW|DATABASE|VIEW|DICTIONARY) IF NOT EXISTS |DROP (TABLE|VIEW) IF EXISTS |ALTER TABLE |INSERT INTO )/);
        // A copy skips what an earlier, interrupted run of it already copied.
        if (s.startsWith('INSERT INTO')) expect(s, s).toContain(' GLOBAL NOT IN (SELECT ');
        if (s.startsWith('ALTER TABLE') && s.includes(' ADD COLUMN ')) expect(s, s).toContain('ADD COLUMN IF NOT EXISTS');
      }
    });
  }
});
