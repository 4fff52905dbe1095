import { mkdir, readdir, rm, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { AppError } from '../shared/errors.js';
import { appendAll, cutTornTail, cutToCompleteRows, fsyncDirectory, openForAppend } from './journal-files.js';
import { JOURNAL_LAYOUTS } from './journal-layouts.js';
import type { RowBinaryLayout } from './row-binary.js';
import { DEFAULT_MAX_READ_WAIT_MS, InsertBarriers } from './read-wait.js';
import { TABLE_NAME, type Store } from './store.js';

/** What the batcher reports to /metrics; the observability module implements it. */
export interface RowBatcherMetrics {
  /** Rows and bytes accepted but not yet in ClickHouse. */
  queued(rows: number, bytes: number): void;
  committed(rows: number, seconds: number): void;
  inserted(rows: number, bytes: number, seconds: number, outcome: 'ok' | 'error'): void;
  rejected(reason: 'overload'): void;
}

export interface RowBatcherOptions {
  store: Store;
  /** Folder of journal files (`<id>.<table>.jsonl`). */
  journalDir: string;
  /** Appends reach the disk (O_DSYNC; the folder is fsynced for new files) before acknowledging. */
  fsync: boolean;
  logger: Logger;
  metrics?: RowBatcherMetrics;
  /** Past this many rows not yet inserted, insert() is refused (503 + Retry-After upstream). */
  maxQueuedRows?: number;
  /** Same in journal bytes: bounds the disk a ClickHouse outage can fill. */
  maxQueuedBytes?: number;
  /** A journal file this large is sealed even while another insert runs, so one insert stays bounded. */
  maxFileBytes?: number;
  /** Longest wait of a row no read is waiting for before its insert starts (default 1 s). */
  maxDelayMs?: number;
  /** A journal file this large is inserted at once, without waiting `maxDelayMs` (default 16 MiB). */
  dueBytes?: number;
  /** Longest wait of whenInserted() before it rejects with a retryable error (default 10 s). */
  maxReadWaitMs?: number;
}

/**
 * Rows for one table: objects (journaled as JSONEachRow lines), or RowBinary rows of a layout
 * (for hot paths: no text for the engine to parse). A table is journaled in one form: the
 * first one it is given in this process.
 */
export type TableRows =
  | { table: string; rows: readonly Record<string, unknown>[] }
  | { table: string; binary: Buffer; rowCount: number; layout: RowBinaryLayout };

export interface RowBatcher {
  /**
   * Resolves once the rows are appended to the journal and on disk. Rejects with a
   * retryable AppError (503) when the journal is full, the append failed, or on shutdown;
   * with a non-retryable one for rows JSON.stringify refuses or a table name that is not an
   * identifier.
   */
  insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void>;
  /**
   * Rows for several tables as one: the journal takes all of them or none (a full journal
   * refuses the whole set), and they are committed together. A change stored across tables
   * (an alert event and its state, an incident and its timeline) must use this: separate
   * calls could store one table's rows and refuse the other's.
   */
  insertAll(parts: readonly TableRows[]): Promise<void>;
  /**
   * Resolves once every row acknowledged before the call is in ClickHouse (read-your-writes):
   * rows of `tables` only, when given (a read waits only for the tables it reads, and those
   * go first), else of every table. Rejects with a retryable STORAGE_UNAVAILABLE after
   * `maxReadWaitMs` (ClickHouse refusing inserts must not hang reads).
   */
  whenInserted(tables?: readonly string[]): Promise<void>;
  /** Rows acknowledged or waiting but not yet inserted. */
  readonly queuedRows: number;
  /**
   * Inserts the journal files a previous process left behind, each exactly once (dedup
   * token), cutting a torn last line or row. Run once at start, before insert() and before anything
   * reads the tables. Throws when a file cannot be inserted.
   */
  replay(): Promise<{ files: number; bytes: number }>;
  /** Commits and inserts what is queued, then refuses new rows. Idempotent. */
  close(): Promise<void>;
}

interface TableChunk {
  layout: RowBinaryLayout | null;
  parts: Buffer[];
  rows: number;
  bytes: number;
}

/** Rows of the callers of one event-loop turn: one commit. */
interface Waiting {
  tables: Map<string, TableChunk>;
  rows: number;
  bytes: number;
  callbacks: { resolve: () => void; reject: (error: unknown) => void }[];
}

/** One table's rows of one or more commits; inserted as a whole once sealed. */
interface JournalFile {
  id: string;
  table: string;
  /** RowBinary rows of this layout; null: JSONEachRow lines. */
  layout: RowBinaryLayout | null;
  path: string;
  handle: FileHandle | null;
  /** Acknowledged bytes and rows: the file holds exactly these, once a failed append is cut off. */
  bytes: number;
  rows: number;
  /** A failed append may have left bytes past `bytes`. */
  dirty: boolean;
  /** Sequence number of the last commit that put rows in it. */
  lastSeq: number;
  /** When its first row was acknowledged (ms): the oldest file goes first. */
  firstAtMs: number;
}

/** What a read waits for: per table, the commit its rows must be inserted up to. */
type UpTo = Map<string, number>;

const SUFFIX = '.jsonl';
/** RowBinary files are named `<id>.<table>.<layout>.rb`. */
const BINARY_SUFFIX = '.rb';
/** Some 200-400 B per row: ~100-200 MiB of journal, minutes of alert storm at the insert rates measured. */
const DEFAULT_MAX_QUEUED_ROWS = 500_000;
const DEFAULT_MAX_QUEUED_BYTES = 256 * 1024 * 1024;
/** Keeps one insert well under ClickHouse's 1M-row insert block, so a replay splits blocks as the first try did. */
const DEFAULT_MAX_FILE_BYTES = 32 * 1024 * 1024;
/**
 * A file no read is waiting for is inserted once its oldest row has waited this long, or once
 * it reaches DEFAULT_DUE_BYTES: each chdb insert costs 6-15 ms whatever its size, blocks the
 * reads queued behind it, and makes parts to merge. ClickHouse's own advice is about one
 * insert per table per second. Under an alert storm (10k alerts re-sent, 200k events, warm,
 * CPU until every row was inserted, 3 runs each) 1 s and 16 MiB took 4.4-4.7 CPU-s where
 * 250 ms and 4 MiB took 5.9-7.4; 16 MiB at 250 ms, or 4 MiB at 1 s, gained little. How stale
 * SQL readers outside the API may be (API reads wait for the rows they read).
 */
const DEFAULT_MAX_DELAY_MS = 1_000;
const DEFAULT_DUE_BYTES = 16 * 1024 * 1024;
/** Files a read waits for go first, unless another has been due this long (no starvation under steady reads). */
const STARVING_AFTER_MS = 1_000;
/**
 * chdb runs one statement at a time: an insert no read needs waits while queries run, and
 * for this long after reads were let through, so they need not queue behind it (an insert
 * costs 6-20 ms; the queries of an API read 1-5 ms).
 */
const READ_GAP_MS = 15;
/** How often a held-back insert looks again whether the reads are done. */
const READ_POLL_MS = 3;
/** Backoff between attempts to insert an acknowledged file: it is never dropped. */
const RETRY_DELAYS_MS = [100, 500, 1_000, 2_000, 5_000];
/**
 * From this attempt on, rows ClickHouse cannot parse are skipped (and logged), so one bad row
 * cannot stall all alert intake behind a journal that never drains.
 */
const SKIP_BAD_ROWS_FROM_ATTEMPT = 2;

/**
 * Group commit through a journal for the tables of alerts, incidents and notifications: each
 * caller's promise resolves once its rows are durable on disk, not yet in ClickHouse.
 *
 * Two stages, on the model of the sample writer: acknowledgement waits on a synchronous write
 * (~1-4 ms), not on ClickHouse (6-20 ms per insert on chdb whatever its size, one statement
 * at a time, plus merging the parts that many small inserts make).
 *
 * 1. Commit: rows of one event-loop turn (JSONEachRow lines, or RowBinary rows of a named
 *    layout for the hot tables: see TableRows) are appended to the current file of each table, opened O_DSYNC (the folder is fsynced when a file was
 *    created); only then do the callers' promises resolve. One commit at a time; rows
 *    arriving meanwhile form the next.
 * 2. Insert: one file at a time. A table's current file is sealed (between commits: nothing
 *    appends to it again), the engine reads it into the table with the file id as
 *    insert_deduplication_token, and it is deleted. Files a read waits for (whenInserted) go
 *    first and at once, so a read waits for at most the insert in flight and its own; other
 *    files once their rows waited `maxDelayMs` or they are large, and not while queries run.
 *    Under load inserts run back to back and files size themselves to it. Failed inserts are
 *    retried with backoff; meanwhile the bounded journal fills and intake sheds load (503).
 *
 * A sealed file never changes, so its id names the same rows at every attempt, also in a
 * replay after a crash (no rename into a batch folder is needed for that). A file still open
 * at the crash was never inserted; its torn last line (or, in a RowBinary file, the part of a
 * row after the last whole one) is cut before its first insert.
 */
export function createRowBatcher(options: RowBatcherOptions): RowBatcher {
  const { store, journalDir, logger, metrics } = options;
  const maxQueuedRows = options.maxQueuedRows ?? DEFAULT_MAX_QUEUED_ROWS;
  const maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const dueBytes = options.dueBytes ?? DEFAULT_DUE_BYTES;
  let dueTimer: NodeJS.Timeout | null = null;
  /** Until when inserts no read needs are held back for the reads just let through (ms). */
  let readGapUntilMs = 0;
  let waiting: Waiting | null = null;
  let commitScheduled = false;
  let committing: Promise<void> | null = null;
  /** The file commits append to, per table. */
  const current = new Map<string, JournalFile>();
  /** Files no commit appends to any more, oldest first; a table's files are inserted in this order. */
  let sealed: JournalFile[] = [];
  let inserting: Promise<void> | null = null;
  let queuedRows = 0;
  let queuedBytes = 0;
  let commitSeq = 0;
  /** Per table: last commit with rows for it, and last commit whose rows for it are inserted. */
  const committedSeq = new Map<string, number>();
  const insertedSeq = new Map<string, number>();
  const barriers = new InsertBarriers<UpTo>(options.maxReadWaitMs ?? DEFAULT_MAX_READ_WAIT_MS, 'rows');
  let closed = false;
  let sequence = 0;
  /** The form each table is journaled in ('json' or a layout name): fixed at its first rows. */
  const tableForms = new Map<string, string>();
  // Ids sort by time and cannot repeat across restarts of this data directory.
  const runId = Date.now().toString(36).padStart(9, '0');
  const ready = mkdir(journalDir, { recursive: true });

  function reportQueue(): void {
    metrics?.queued(queuedRows, queuedBytes);
  }

  function scheduleCommit(): void {
    if (committing || commitScheduled) return;
    commitScheduled = true;
    // Let the other callers of this event-loop turn join the commit.
    setImmediate(() => {
      commitScheduled = false;
      startCommit();
    });
  }

  function startCommit(): void {
    if (committing || !waiting) return;
    const batch = waiting;
    waiting = null;
    committing = commit(batch).finally(() => {
      committing = null;
      // Seal between commits, before the next one appends.
      startInsert();
      if (waiting) startCommit();
    });
  }

  function seal(file: JournalFile): void {
    if (current.get(file.table) === file) current.delete(file.table);
    sealed.push(file);
  }

  async function commit(batch: Waiting): Promise<void> {
    const started = process.hrtime.bigint();
    const touched: JournalFile[] = [];
    try {
      await ready;
      let created = false;
      // allSettled: a failure must not cut files while another append is still running.
      const appends = await Promise.allSettled(
        [...batch.tables].map(async ([table, chunk]) => {
          let file = current.get(table);
          if (!file) {
            const id = `${runId}-${String(++sequence).padStart(9, '0')}`;
            const name = chunk.layout ? `${id}.${table}.${chunk.layout.name}${BINARY_SUFFIX}` : `${id}.${table}${SUFFIX}`;
            file = { id, table, layout: chunk.layout, path: join(journalDir, name), handle: null, bytes: 0, rows: 0, dirty: false, lastSeq: 0, firstAtMs: 0 };
            current.set(table, file);
          }
          if (!file.handle) {
            file.handle = await openForAppend(file.path, options.fsync);
            created = true;
          }
          touched.push(file);
          await appendAll(file.handle, chunk.parts);
        }),
      );
      const failed = appends.find((a) => a.status === 'rejected');
      if (failed) throw failed.reason;
      // A new file's directory entry must be durable too; later appends need only O_DSYNC.
      if (created && options.fsync) await fsyncDirectory(journalDir);
    } catch (error) {
      queuedRows -= batch.rows;
      queuedBytes -= batch.bytes;
      reportQueue();
      logger.error({ err: error }, 'journal append failed; senders will retry');
      // Cut what this commit may have appended (the inserter cuts again if this fails), and
      // seal the files so that no later append lands after what may still be there.
      for (const file of touched) {
        file.dirty = true;
        await file.handle?.truncate(file.bytes).catch(() => undefined);
      }
      for (const table of batch.tables.keys()) {
        const file = current.get(table);
        if (file) seal(file);
      }
      const failure = new AppError('STORAGE_WRITE_FAILED', `journal write failed: ${(error as Error).message}`, { retryable: true, cause: error });
      for (const c of batch.callbacks) c.reject(failure);
      return;
    }
    const seq = ++commitSeq;
    const nowMs = Date.now();
    for (const [table, chunk] of batch.tables) {
      const file = current.get(table)!;
      if (file.rows === 0) file.firstAtMs = nowMs;
      file.bytes += chunk.bytes;
      file.rows += chunk.rows;
      file.lastSeq = seq;
      committedSeq.set(table, seq);
      if (file.bytes >= maxFileBytes) seal(file);
    }
    metrics?.committed(batch.rows, Number(process.hrtime.bigint() - started) / 1e9);
    for (const c of batch.callbacks) c.resolve();
  }

  /**
   * The next file to insert, if one is due: of a table a read waits for (unless another file
   * is starving); else the oldest file that waited `maxDelayMs`, is large, or holds no row. A
   * current file is sealed for it only between commits. Arms a timer when nothing is due yet.
   */
  function nextFile(): JournalFile | undefined {
    const candidates = committing ? sealed : [...sealed, ...[...current.values()].filter((f) => f.rows > 0)];
    if (candidates.length === 0) return undefined;
    // Per table, only its oldest file (ids grow) may go: a table's rows go in in commit order.
    const heads = new Map<string, JournalFile>();
    for (const f of candidates) {
      const head = heads.get(f.table);
      if (!head || f.id < head.id) heads.set(f.table, f);
    }
    const files = [...heads.values()].sort((a, b) => a.firstAtMs - b.firstAtMs);
    const nowMs = Date.now();
    const dueSince = (f: JournalFile) => (f.rows === 0 || f.bytes >= dueBytes || closed ? f.firstAtMs : f.firstAtMs + maxDelayMs);
    const starving = files.find((f) => nowMs - dueSince(f) >= STARVING_AFTER_MS);
    if (starving) return starving;
    const wanted = files.find((f) => barriers.some((upTo) => (upTo.get(f.table) ?? 0) > (insertedSeq.get(f.table) ?? 0)));
    if (wanted) return wanted;
    const due = files.find((f) => dueSince(f) <= nowMs);
    const readsFirst = !closed && (store.queriesInFlight > 0 || nowMs < readGapUntilMs);
    if (due && !readsFirst) return due;
    const nextDueMs = due ? nowMs + READ_POLL_MS : Math.min(...files.map(dueSince));
    if (dueTimer) clearTimeout(dueTimer);
    dueTimer = setTimeout(() => {
      dueTimer = null;
      startInsert();
    }, nextDueMs - nowMs);
    // Whatever is left at exit is in the journal, for the next start.
    dueTimer.unref();
    return undefined;
  }

  /** Starts inserting the next file, if any and none is being inserted. */
  function startInsert(): void {
    if (inserting) return;
    const file = nextFile();
    if (!file) return;
    if (dueTimer) clearTimeout(dueTimer);
    dueTimer = null;
    if (!sealed.includes(file)) seal(file);
    inserting = insertFile(file).then(() => {
      sealed = sealed.filter((f) => f !== file);
      inserting = null;
      if (file.rows > 0) insertedSeq.set(file.table, Math.max(insertedSeq.get(file.table) ?? 0, file.lastSeq));
      queuedRows -= file.rows;
      queuedBytes -= file.bytes;
      reportQueue();
      if (barriers.release(isSatisfied) > 0) readGapUntilMs = Date.now() + READ_GAP_MS;
      startInsert();
    });
  }

  function isSatisfied(upTo: UpTo): boolean {
    for (const [table, seq] of upTo) if ((insertedSeq.get(table) ?? 0) < seq) return false;
    return true;
  }

  /** Never rejects: an acknowledged file is retried until it is in ClickHouse. */
  async function insertFile(file: JournalFile): Promise<void> {
    if (file.handle) {
      await file.handle.close().catch(() => undefined);
      file.handle = null;
    }
    for (let attempt = 0; file.rows > 0; attempt++) {
      const started = process.hrtime.bigint();
      try {
        if (file.dirty) {
          await truncate(file.path, file.bytes);
          file.dirty = false;
        }
        await insertJournalFile(file.table, file.layout, file.path, file.id, attempt >= SKIP_BAD_ROWS_FROM_ATTEMPT);
        metrics?.inserted(file.rows, file.bytes, Number(process.hrtime.bigint() - started) / 1e9, 'ok');
        break;
      } catch (error) {
        metrics?.inserted(file.rows, file.bytes, Number(process.hrtime.bigint() - started) / 1e9, 'error');
        const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]!;
        const next = attempt + 1 >= SKIP_BAD_ROWS_FROM_ATTEMPT ? 'retrying, skipping rows ClickHouse cannot parse' : 'retrying';
        logger.error({ err: error, file: file.path, rows: file.rows, attempt, retryInMs: delay }, `insert of acknowledged rows failed; ${next}`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    await removeFile(file.path);
  }

  /**
   * Token = file id: a repeat after a crash inserts nothing twice. RowBinary rows are typed
   * as written, so there are no bad rows to skip.
   */
  function insertJournalFile(table: string, layout: RowBinaryLayout | null, path: string, id: string, skipBadRows: boolean): Promise<void> {
    const token = `rows-${id}`;
    if (layout) return store.insertRowBinaryFiles(table, layout, [path], token);
    return store.insertJsonFiles(table, [path], token, { skipBadRows });
  }

  /**
   * Retried with the insert backoff: a file left behind is replayed at the next start, and
   * deduplicated only while its table has seen fewer inserts since than its deduplication
   * window holds.
   */
  async function removeFile(path: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await rm(path, { force: true });
        return;
      } catch (error) {
        if (attempt + 1 >= RETRY_DELAYS_MS.length) {
          logger.error({ err: error, path }, 'could not delete an inserted journal file; the next start replays it');
          return;
        }
        logger.warn({ err: error, path, attempt }, 'could not delete an inserted journal file; retrying');
        await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]));
      }
    }
  }

  /**
   * Queues serialised rows of one or more tables for the next commit, all or none; resolves
   * once they are durable.
   */
  function enqueue(parts: readonly { table: string; bytes: Buffer; rowCount: number; layout: RowBinaryLayout | null }[]): Promise<void> {
    if (closed) return Promise.reject(new AppError('INGEST_SHUTTING_DOWN', 'Vigil is shutting down; retry', { retryable: true }));
    const bad = parts.find((p) => !TABLE_NAME.test(p.table));
    if (bad) return Promise.reject(new AppError('STORAGE_WRITE_FAILED', `table name ${JSON.stringify(bad.table)} is not journalable`));
    for (const { table, layout } of parts) {
      const form = layout?.name ?? 'json';
      const fixed = tableForms.get(table);
      if (fixed === undefined) tableForms.set(table, form);
      else if (fixed !== form) return Promise.reject(new AppError('STORAGE_WRITE_FAILED', `table ${table} is journaled as ${fixed}, not ${form}`));
    }
    const buffers = parts.map((p) => p.bytes);
    const rowCount = parts.reduce((n, p) => n + p.rowCount, 0);
    // Bytes of parts with rows only: a part without rows is not appended, so its bytes would never leave the count.
    const byteCount = parts.reduce((n, p) => n + (p.rowCount > 0 ? p.bytes.length : 0), 0);
    if (rowCount === 0) return Promise.resolve();
    if (queuedRows + rowCount > maxQueuedRows || queuedBytes + byteCount > maxQueuedBytes) {
      metrics?.rejected('overload');
      return Promise.reject(
        new AppError('INGEST_OVERLOADED', `journal full (${queuedRows} rows, ${queuedBytes} bytes not yet stored); retry later`, { retryable: true }),
      );
    }
    queuedRows += rowCount;
    queuedBytes += byteCount;
    reportQueue();
    const batch: Waiting = (waiting ??= { tables: new Map(), rows: 0, bytes: 0, callbacks: [] } satisfies Waiting);
    parts.forEach(({ table, rowCount: rows }, i) => {
      if (rows === 0) return;
      const buffer = buffers[i]!;
      let chunk = batch.tables.get(table);
      if (!chunk) batch.tables.set(table, (chunk = { layout: parts[i]!.layout, parts: [], rows: 0, bytes: 0 }));
      chunk.parts.push(buffer);
      chunk.rows += rows;
      chunk.bytes += buffer.length;
    });
    batch.rows += rowCount;
    batch.bytes += byteCount;
    const done = new Promise<void>((resolve, reject) => batch.callbacks.push({ resolve, reject }));
    scheduleCommit();
    return done;
  }

  /** JSONEachRow text of rows; throws a non-retryable AppError for rows JSON cannot hold. */
  function serialise(table: string, rows: readonly Record<string, unknown>[]): string {
    let text = '';
    try {
      for (const row of rows) text += JSON.stringify(row) + '\n';
    } catch (error) {
      throw new AppError('STORAGE_WRITE_FAILED', `rows for ${table} are not JSON: ${(error as Error).message}`, { cause: error });
    }
    return text;
  }

  function insertAll(parts: readonly TableRows[]): Promise<void> {
    let encoded: { table: string; bytes: Buffer; rowCount: number; layout: RowBinaryLayout | null }[];
    try {
      encoded = parts.map((p) => {
        if ('binary' in p) return { table: p.table, bytes: p.binary, rowCount: p.rowCount, layout: p.layout };
        return { table: p.table, bytes: Buffer.from(serialise(p.table, p.rows)), rowCount: p.rows.length, layout: null };
      });
    } catch (error) {
      return Promise.reject(error);
    }
    return enqueue(encoded);
  }

  return {
    insert: (table, rows) => insertAll([{ table, rows }]),
    insertAll,

    whenInserted(tables) {
      const upTo = new Map<string, number>();
      for (const table of tables ?? committedSeq.keys()) {
        const seq = committedSeq.get(table) ?? 0;
        if (seq > (insertedSeq.get(table) ?? 0)) upTo.set(table, seq);
      }
      if (upTo.size === 0) return Promise.resolve();
      return barriers.wait(upTo, startInsert);
    },

    get queuedRows() {
      return queuedRows;
    },

    async replay() {
      await ready;
      // Name order is id order: a table's files go in the order they were written.
      const names = (await readdir(journalDir)).filter((n) => (n.endsWith(SUFFIX) || n.endsWith(BINARY_SUFFIX)) && !n.startsWith(`${runId}-`)).sort();
      let bytes = 0;
      for (const name of names) {
        const { id, table, layout } = parseFileName(name);
        const path = join(journalDir, name);
        const kept = layout ? await cutToCompleteRows(path, layout) : await cutTornTail(path);
        if (kept > 0) {
          try {
            await insertJournalFile(table, layout, path, id, false);
          } catch (error) {
            logger.error({ err: error, file: path }, 'journal replay failed; retrying, skipping rows ClickHouse cannot parse');
            await insertJournalFile(table, layout, path, id, true);
          }
        }
        await removeFile(path);
        bytes += kept;
        logger.info({ file: name, bytes: kept }, 'replayed journal file');
      }
      return { files: names.length, bytes };
    },

    async close() {
      closed = true;
      while (committing || waiting) {
        startCommit();
        if (committing) await committing;
      }
      while (inserting || sealed.length > 0 || [...current.values()].some((f) => f.rows > 0)) {
        startInsert();
        if (inserting) await inserting;
      }
      // Files whose every append failed hold no acknowledged row.
      for (const file of current.values()) {
        await file.handle?.close().catch(() => undefined);
        await removeFile(file.path);
      }
      current.clear();
      if (dueTimer) clearTimeout(dueTimer);
      dueTimer = null;
    },
  };
}

/**
 * Id, table and row layout of a journal file: `<id>.<table>.jsonl` or
 * `<id>.<table>.<layout>.rb`. Throws for a layout this version does not know (a file from a
 * newer version): it is kept, never dropped, and the start fails naming it.
 */
function parseFileName(name: string): { id: string; table: string; layout: RowBinaryLayout | null } {
  const [id = '', table = '', ...rest] = name.split('.');
  if (name.endsWith(SUFFIX)) return { id, table, layout: null };
  const layoutName = rest[0] ?? '';
  const layout = JOURNAL_LAYOUTS.find((l) => l.name === layoutName);
  if (!layout) throw new Error(`journal file ${name} holds rows of layout ${JSON.stringify(layoutName)}, which this version of Vigil cannot read`);
  return { id, table, layout };
}
