import { createReadStream, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import type { Config } from '../config/index.js';
import { AppError } from '../shared/errors.js';
import { createDatabaseStatement } from './ddl.js';
import type { RowBinaryLayout } from './row-binary.js';

/**
 * The only door to ClickHouse. Embedded (chdb, in-process) by default; a server when
 * `storage.clickhouseUrl` is set. Every statement has a name, used in errors, logs and metrics.
 */
export interface Store {
  readonly mode: 'embedded' | 'server';
  /** Cluster name when migrations should emit ON CLUSTER / Replicated / Distributed DDL. */
  readonly cluster: string | undefined;
  /** Creates the configured database if missing (server mode; the embedded store has its own). */
  ensureDatabase(): Promise<void>;
  /** Rows of a SELECT as objects. `params` bind `{name:Type}` placeholders server-side. */
  query<Row>(name: string, sql: string, params?: Record<string, unknown>): Promise<Row[]>;
  /** query() calls not yet answered: the row journal holds back inserts no read needs meanwhile. */
  readonly queriesInFlight: number;
  /** DDL or INSERT … SELECT; no result rows. */
  command(name: string, sql: string, params?: Record<string, unknown>): Promise<void>;
  /** Small inserts of JSON rows (catalog, incidents): not for samples. */
  insertRows(table: string, rows: readonly Record<string, unknown>[]): Promise<void>;
  /**
   * Inserts RowBinary files (all in one folder, names of [A-Za-z0-9._-]) of rows of `layout`
   * into the layout's columns of `table`, as one insert. `dedupToken` makes a replay of the
   * same files a no-op (insert_deduplication_token).
   */
  insertRowBinaryFiles(table: string, layout: RowBinaryLayout, filePaths: readonly string[], dedupToken: string): Promise<void>;
  /**
   * Inserts JSONEachRow files (all in one folder, names as above) into `table`, read with the
   * table's own structure, as one insert with `dedupToken` as insert_deduplication_token.
   * `skipBadRows` drops rows the engine cannot parse instead of failing the insert.
   */
  insertJsonFiles(table: string, filePaths: readonly string[], dedupToken: string, options?: { skipBadRows?: boolean }): Promise<void>;
  close(): Promise<void>;
}

/**
 * Settings of every journal insert. A lone UTF-16 surrogate, which JSON.stringify writes as
 * `\ud800`, is stored as written rather than failing the whole batch; the structure is the
 * insertion table's, never inferred from the file.
 */
const JSON_FILE_SETTINGS: ClickHouseSettings = {
  input_format_json_throw_on_bad_escape_sequence: 0,
  use_structure_from_insertion_table_in_table_functions: '1',
};
const SKIP_BAD_ROWS_SETTINGS: ClickHouseSettings = { input_format_allow_errors_ratio: 1 };
const jsonFileSettings = (options?: { skipBadRows?: boolean }): ClickHouseSettings => ({ ...JSON_FILE_SETTINGS, ...(options?.skipBadRows ? SKIP_BAD_ROWS_SETTINGS : {}) });
/**
 * Settings of every insert of a write-ahead segment or journal file, which carries the file's
 * id as insert_deduplication_token. With this, a block the table drops as a repeat is
 * deduplicated in each materialized view on its own, by the view table's window (012, 013),
 * so replaying a file after a crash adds to a view exactly what the first attempt did not.
 * ClickHouse 26 (chdb) has it on by default, older servers off; and without a window on the
 * view's table the repeat went in: the rollups counted a replayed segment twice.
 */
const FILE_INSERT_SETTINGS: ClickHouseSettings = { deduplicate_blocks_in_dependent_materialized_views: 1 };
/** A plain table name: safe as an SQL identifier and in a file name. */
export const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkedTable(table: string): string {
  if (!TABLE_NAME.test(table)) throw new AppError('STORAGE_QUERY_FAILED', `table name ${JSON.stringify(table)} is not insertable`);
  return table;
}

export function createStore(storage: Config['storage']): Store {
  if (storage.clickhouseUrl) return createServerStore(storage);
  return createEmbeddedStore(storage.dataDir);
}

/**
 * ClickHouse error codes that a request's own values cause, and that the same request
 * will cause again: answered 400 with a short reason instead of 503 + Retry-After (a
 * retry cannot help) with the engine's whole message (which names its internals).
 */
const REQUEST_CAUSED_ERRORS: ReadonlyMap<number, string> = new Map([
  [427, 'a regular expression the engine cannot compile (RE2 refuses it, e.g. too large)'],
  [69, 'a value out of the range the engine accepts'],
]);

function wrap<T>(name: string, run: () => Promise<T>): Promise<T> {
  return run().catch((error: unknown) => {
    const message = (error as Error).message;
    const code = Number(/\bCode: (\d+)\b/.exec(message)?.[1] ?? (error as { code?: unknown }).code);
    const requestCaused = REQUEST_CAUSED_ERRORS.get(code);
    if (requestCaused !== undefined) throw new AppError('REQUEST_INVALID', `${name}: ${requestCaused}`, { httpStatus: 400, cause: error });
    throw new AppError('STORAGE_QUERY_FAILED', `${name}: ${message}`, { retryable: true, cause: error });
  });
}

function createClientStore(
  client: ClickHouseClient,
  mode: Store['mode'],
  cluster: string | undefined,
  insertFiles: Store['insertRowBinaryFiles'],
  insertJsonFiles: Store['insertJsonFiles'],
  ensureDatabase: Store['ensureDatabase'],
): Store {
  let queriesInFlight = 0;
  return {
    mode,
    cluster,
    ensureDatabase,
    query: <Row>(name: string, sql: string, params?: Record<string, unknown>) =>
      wrap(name, async () => {
        queriesInFlight++;
        try {
          const result = await client.query({ query: sql, format: 'JSONEachRow', ...(params ? { query_params: params } : {}) });
          return (await result.json()) as Row[];
        } finally {
          queriesInFlight--;
        }
      }),
    get queriesInFlight() {
      return queriesInFlight;
    },
    command: (name, sql, params) =>
      wrap(name, async () => {
        await client.command({ query: sql, ...(params ? { query_params: params } : {}) });
      }),
    insertRows: (table, rows) =>
      wrap(`insert ${table}`, async () => {
        if (rows.length === 0) return;
        await client.insert({ table, values: rows as Record<string, unknown>[], format: 'JSONEachRow' });
      }),
    insertRowBinaryFiles: insertFiles,
    insertJsonFiles,
    close: () => client.close(),
  };
}

function createEmbeddedStore(dataDir: string): Store {
  const path = join(dataDir, 'clickhouse');
  mkdirSync(path, { recursive: true });
  // chdb ignores the client's `database` option: the embedded store uses `default`, the
  // data directory being a dedicated instance anyway.
  const client = createClient({ connection: asClientConnection(createChdbConnection({ path })) });
  /**
   * The engine reads the files itself: no bytes cross into JS (4.2 M rows/s measured for
   * RowBinary). Settings go inline: chdb applies clickhouse_settings as session-wide SETs,
   * which would outlive this insert.
   */
  const insertFromFiles = async (table: string, format: string, filePaths: readonly string[], dedupToken: string, settings: ClickHouseSettings, layout?: RowBinaryLayout) => {
    const inline = Object.entries({ ...FILE_INSERT_SETTINGS, ...settings }).map(([name, value]) => `, ${name} = ${String(value)}`);
    const structure = layout?.structure;
    const columns = layout === undefined ? '' : ` (${columnListOf(layout)})`;
    await client.command({
      query: `INSERT INTO ${checkedTable(table)}${columns} SETTINGS insert_deduplication_token = {token:String}${inline.join('')} SELECT * FROM file({path:String}, '${format}'${structure === undefined ? '' : ', {structure:String}'})`,
      query_params: { token: dedupToken, path: globOf(filePaths), ...(structure === undefined ? {} : { structure }) },
    });
  };
  const insertFiles: Store['insertRowBinaryFiles'] = (table, layout, filePaths, dedupToken) =>
    wrap(`insert ${table} from segments`, () => insertFromFiles(table, 'RowBinary', filePaths, dedupToken, {}, layout));
  const insertJsonFiles: Store['insertJsonFiles'] = (table, filePaths, dedupToken, options) =>
    wrap(`insert ${table} from journal`, () => insertFromFiles(table, 'JSONEachRow', filePaths, dedupToken, jsonFileSettings(options)));
  return createClientStore(client, 'embedded', undefined, insertFiles, insertJsonFiles, async () => undefined);
}

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

/** chdb types its connection against @clickhouse/client-common, which the client now bundles: same shape, two declarations. */
function asClientConnection(connection: ReturnType<typeof createChdbConnection>): ClientConnection {
  return connection as unknown as ClientConnection;
}

function createServerStore(storage: Config['storage']): Store {
  const client = createClient({
    url: storage.clickhouseUrl,
    username: storage.user,
    password: storage.password,
    database: storage.database,
    clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
  });
  // On a cluster the tables written are Distributed: by default the INSERT returns once
  // the block sits in the receiving server's send queue, and Vigil would then delete its
  // write-ahead copy. Wait until every shard has it.
  const clusterSettings: ClickHouseSettings = storage.cluster ? { distributed_foreground_insert: 1 } : {};
  // A server cannot read our files: stream them as the INSERT body instead.
  const streamFiles = async (query: string, filePaths: readonly string[], dedupToken: string, settings: ClickHouseSettings) => {
    const result = await client.exec({
      query,
      values: Readable.from(concatFiles(filePaths)),
      clickhouse_settings: { insert_deduplication_token: dedupToken, ...FILE_INSERT_SETTINGS, ...clusterSettings, ...settings },
    });
    result.stream.resume();
    await new Promise<void>((resolve, reject) => result.stream.on('end', resolve).on('error', reject));
  };
  const insertFiles: Store['insertRowBinaryFiles'] = (table, layout, filePaths, dedupToken) =>
    wrap(`insert ${table} from segments`, () => streamFiles(`INSERT INTO ${checkedTable(table)} (${columnListOf(layout)}) FORMAT RowBinary`, filePaths, dedupToken, {}));
  const insertJsonFiles: Store['insertJsonFiles'] = (table, filePaths, dedupToken, options) =>
    wrap(`insert ${table} from journal`, () => streamFiles(`INSERT INTO ${checkedTable(table)} FORMAT JSONEachRow`, filePaths, dedupToken, jsonFileSettings(options)));
  // The database must exist before a client bound to it can run anything: ask through `default`.
  const ensureDatabase = () =>
    wrap('create database', async () => {
      const bootstrap = createClient({ url: storage.clickhouseUrl, username: storage.user, password: storage.password, database: 'default' });
      try {
        await bootstrap.command({ query: createDatabaseStatement({ cluster: storage.cluster }, storage.database) });
      } finally {
        await bootstrap.close();
      }
    });
  return createClientStore(client, 'server', storage.cluster, insertFiles, insertJsonFiles, ensureDatabase);
}

/**
 * The column list of an insert of `layout`'s rows: by name, not position, since a table may
 * have gained columns since the rows were laid out.
 */
export function columnListOf(layout: RowBinaryLayout): string {
  for (const { name } of layout.columns) {
    if (!TABLE_NAME.test(name)) throw new AppError('STORAGE_QUERY_FAILED', `column ${JSON.stringify(name)} of layout ${layout.name} is not an identifier`);
  }
  return layout.columns.map((c) => c.name).join(', ');
}

/** One `file()` path naming exactly these files: `dir/{a,b,c}`. Names are checked, never quoted. */
function globOf(filePaths: readonly string[]): string {
  const dir = dirname(filePaths[0] ?? '.');
  const names = filePaths.map((p) => {
    if (dirname(p) !== dir || !/^[A-Za-z0-9._-]+$/.test(basename(p))) throw new Error(`segment path ${p} is not insertable`);
    return basename(p);
  });
  return names.length === 1 ? join(dir, names[0]!) : join(dir, `{${names.join(',')}}`);
}

async function* concatFiles(filePaths: readonly string[]): AsyncGenerator<Buffer> {
  for (const path of filePaths) for await (const chunk of createReadStream(path)) yield chunk as Buffer;
}
