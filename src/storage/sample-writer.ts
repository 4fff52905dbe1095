import { mkdir, open, readdir, readFile, rename, rm, stat, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { completeSeriesRowsLength, markSeriesCommitted, SAMPLE_ROW_BYTES, SAMPLE_ROW_LAYOUT, SERIES_ROW_LAYOUT, type SampleBatch } from '../ingest/sample-batch.js';
import { AppError } from '../shared/errors.js';
import { appendAll, fsyncDirectory, openForAppend } from './journal-files.js';
import { DEFAULT_MAX_READ_WAIT_MS, InsertBarriers } from './read-wait.js';
import type { Store } from './store.js';

/** What the writer reports to /metrics; the observability module implements it. */
export interface WriterMetrics {
  queueRows(rows: number): void;
  committed(rows: number, seconds: number): void;
  inserted(rows: number, seconds: number, outcome: 'ok' | 'error'): void;
  rejected(reason: 'overload'): void;
}

export interface SampleWriterOptions {
  store: Store;
  /** Folder of write-ahead segments. */
  walDir: string;
  /** An insert starts once this many committed rows wait… */
  maxBatchRows: number;
  /** …or once the oldest committed row has waited this long. */
  flushIntervalMs: number;
  /** Past this many rows not yet inserted, writes are refused (503 + Retry-After). Bounds disk and memory. */
  maxQueuedRows: number;
  fsync: boolean;
  logger: Logger;
  metrics?: WriterMetrics;
  /** Longest wait of whenInserted() before it rejects with a retryable error (default 10 s). */
  maxReadWaitMs?: number;
}

export interface SampleWriter {
  /**
   * Resolves once the batch is durable: written to a write-ahead segment and fsynced.
   * Rejects with a retryable AppError (503) when the queue is full or the disk write failed.
   */
  write(batch: SampleBatch): Promise<void>;
  /**
   * Resolves once every batch acknowledged before the call is in ClickHouse (read-your-writes).
   * Rejects with a retryable STORAGE_UNAVAILABLE after `maxReadWaitMs`.
   */
  whenInserted(): Promise<void>;
  /** Rows acknowledged or waiting but not yet inserted. */
  readonly queuedRows: number;
  /** Inserts the segments a previous process left behind. Run once at start, before write(). */
  replay(): Promise<{ segments: number; rows: number }>;
  /** Commits and inserts what is queued, then refuses new writes. */
  close(): Promise<void>;
}

interface Pending {
  batch: SampleBatch;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Segment {
  id: string;
  rows: number;
  hasSeries: boolean;
  /**
   * Set when an append to it failed: the acknowledged lengths of its files, which may hold
   * more (the truncate after the failure can fail too). Cut to these before inserting.
   */
  acknowledgedBytes?: { samples: number; series: number };
}

/** A segment commits append to until the inserter takes it. */
interface OpenSegment extends Segment {
  samples: FileHandle;
  series: FileHandle | null;
  samplesBytes: number;
  seriesBytes: number;
  /** A file of it was created and its directory not yet fsynced: the next commit must. */
  unsyncedEntry: boolean;
}

/**
 * Commits that may run at once, each appending to a segment of its own (one commit at a time
 * per segment file, so a crash tears at most its tail). Under load an O_DSYNC append waits
 * 1-2 ms, mostly for the disk and the CPU others hold; a second lane lets the next group
 * commit write meanwhile.
 */
const COMMIT_LANES = 2;

/** A commit lane: the commit it runs, and its segment. */
interface Lane {
  committing: Promise<void> | null;
  current: OpenSegment | null;
}

const SAMPLES_SUFFIX = '.samples.rb';
const SERIES_SUFFIX = '.series.rb';
/** Backoff between attempts to insert an acknowledged batch: it is never dropped. */
const RETRY_DELAYS_MS = [100, 500, 1_000, 2_000, 5_000];

/**
 * Two stages, so acknowledgement does not wait on ClickHouse's per-insert cost (~10-15 ms
 * plus the rollup views, measured on chdb) and inserts stay large:
 *
 * 1. Commit (group commit): rows of concurrent requests go into one segment file in
 *    `pending/`, fsynced with its directory; then every request in it is acknowledged.
 *    Up to COMMIT_LANES commits run at once, each appending to its own segment; the next
 *    starts when one ends, so batches grow with load.
 * 2. Insert: committed segments are moved into a `batch-<id>/` folder (an atomic rename,
 *    fsynced), inserted with one INSERT per table in which the engine reads the files
 *    itself, with `batch-<id>` as insert_deduplication_token, then deleted. A failed insert
 *    is retried with backoff, never dropped; meanwhile the queue fills and ingest sheds load.
 *
 * A crash leaves `batch-*` folders (replayed with the same token, so rows already inserted
 * are not inserted twice) and `pending/` segments (inserted as a new batch).
 */
export function createSampleWriter(options: SampleWriterOptions): SampleWriter {
  const { store, walDir, logger, metrics } = options;
  const pendingDir = join(walDir, 'pending');
  let queue: Pending[] = [];
  let queuedRows = 0;
  const lanes: Lane[] = Array.from({ length: COMMIT_LANES }, () => ({ committing: null, current: null }));
  const commitsRunning = () => lanes.filter((l) => l.committing !== null).map((l) => l.committing!);
  /** An insert waits for the running commits to end before it takes the segments. */
  let insertWaitsForTake = false;
  let commitScheduled = false;
  let committed: Segment[] = [];
  let committedRows = 0;
  let oldestCommittedAt = 0;
  let inserting: Promise<void> | null = null;
  let insertTimer: NodeJS.Timeout | null = null;
  let committedSeq = 0;
  let insertedSeq = 0;
  /** Reads waiting for the commit numbered by their target to be inserted. */
  const barriers = new InsertBarriers<number>(options.maxReadWaitMs ?? DEFAULT_MAX_READ_WAIT_MS, 'samples');
  let closed = false;
  let sequence = 0;
  // Ids sort by time and cannot repeat across restarts of this data directory.
  const runId = Date.now().toString(36).padStart(9, '0');
  const nextId = () => `${runId}-${String(++sequence).padStart(9, '0')}`;
  const ready = mkdir(pendingDir, { recursive: true });

  function scheduleCommit(): void {
    if (commitScheduled || lanes.every((l) => l.committing !== null)) return;
    commitScheduled = true;
    // Let the other requests of this event-loop turn join the segment.
    setImmediate(() => {
      commitScheduled = false;
      startCommit();
    });
  }

  function startCommit(): void {
    // An insert waiting to take the committed segments goes first: under steady load
    // commits run back to back, and it could otherwise wait until the queue is full.
    if (queue.length === 0 || insertWaitsForTake) return;
    const lane = lanes.find((l) => !l.committing);
    if (!lane) return;
    const taken = queue;
    queue = [];
    lane.committing = commitSegment(lane, taken).finally(() => {
      lane.committing = null;
      if (queue.length > 0) startCommit();
    });
  }

  /**
   * Appends the taken batches to the lane's segment. Two lanes may carry the row of the same
   * new series (it counts as stored only once a commit with it ends): a duplicate the series
   * table folds away, where a missing row would lose the series of acknowledged samples.
   */
  async function commitSegment(lane: Lane, taken: Pending[]): Promise<void> {
    const started = process.hrtime.bigint();
    const rows = taken.reduce((n, p) => n + p.batch.sampleCount, 0);
    const series = taken.map((p) => p.batch.seriesRows).filter((b) => b.length > 0);
    let segment: OpenSegment | null = lane.current;
    try {
      await ready;
      if (!segment) {
        const id = nextId();
        segment = lane.current = {
          id,
          rows: 0,
          hasSeries: false,
          samples: await openForAppend(join(pendingDir, id + SAMPLES_SUFFIX), options.fsync),
          series: null,
          samplesBytes: 0,
          seriesBytes: 0,
          unsyncedEntry: true,
        };
        committed.push(segment);
      }
      if (series.length > 0) {
        if (!segment.series) {
          segment.series = await openForAppend(join(pendingDir, segment.id + SERIES_SUFFIX), options.fsync);
          segment.hasSeries = true;
          segment.unsyncedEntry = true;
        }
        await appendAll(segment.series, series);
      }
      const samples = taken.map((p) => p.batch.samples);
      await appendAll(segment.samples, samples);
      // A new file's directory entry must be durable too (the series file may be created by
      // a later commit than the samples file); later appends need only O_DSYNC.
      if (options.fsync && segment.unsyncedEntry) {
        await fsyncDirectory(pendingDir);
        segment.unsyncedEntry = false;
      }
      // Only now are these bytes acknowledged: a failure above cuts the files back to the
      // lengths before this commit, rejected rows included.
      segment.seriesBytes += series.reduce((n, b) => n + b.length, 0);
      segment.samplesBytes += samples.reduce((n, b) => n + b.length, 0);
    } catch (error) {
      queuedRows -= rows;
      metrics?.queueRows(queuedRows);
      logger.error({ err: error, segment: segment?.id }, 'write-ahead append failed; senders will retry');
      // Cut what this commit may have appended, so the segment holds only acknowledged rows;
      // appends stop here (a new segment takes the next commit), and the insert cuts the
      // files to these lengths again in case this truncate failed too.
      if (segment) {
        segment.acknowledgedBytes = { samples: segment.samplesBytes, series: segment.seriesBytes };
        await segment.samples.truncate(segment.samplesBytes).catch(() => undefined);
        await segment.series?.truncate(segment.seriesBytes).catch(() => undefined);
        if (lane.current === segment) {
          lane.current = null;
          await segment.samples.close().catch(() => undefined);
          await segment.series?.close().catch(() => undefined);
        }
      }
      const failure = new AppError('STORAGE_WRITE_FAILED', `write-ahead log write failed: ${(error as Error).message}`, { retryable: true, cause: error });
      for (const p of taken) p.reject(failure);
      return;
    }
    for (const p of taken) markSeriesCommitted(p.batch);
    if (committedRows === 0) oldestCommittedAt = Date.now();
    segment.rows += rows;
    committedRows += rows;
    committedSeq++;
    metrics?.committed(rows, Number(process.hrtime.bigint() - started) / 1e9);
    for (const p of taken) p.resolve();
    scheduleInsert();
  }

  function scheduleInsert(): void {
    if (inserting || committed.length === 0) return;
    const waited = Date.now() - oldestCommittedAt;
    if (committedRows >= options.maxBatchRows || barriers.size > 0 || closed || waited >= options.flushIntervalMs) {
      if (insertTimer) clearTimeout(insertTimer);
      insertTimer = null;
      startInsert();
    } else if (!insertTimer) {
      insertTimer = setTimeout(() => {
        insertTimer = null;
        scheduleInsert();
      }, options.flushIntervalMs - waited);
    }
  }

  function startInsert(): void {
    inserting = (async () => {
      // Wait out the running commits, then take every committed segment at once: nothing
      // below may await before the take, or a new commit could slip into a taken segment.
      insertWaitsForTake = true;
      for (let running = commitsRunning(); running.length > 0; running = commitsRunning()) await Promise.all(running);
      const open = lanes.map((l) => l.current).filter((segment) => segment !== null);
      for (const lane of lanes) lane.current = null;
      const segments = committed;
      const rows = committedRows;
      const upToSeq = committedSeq;
      committed = [];
      committedRows = 0;
      insertWaitsForTake = false;
      startCommit();
      for (const segment of open) {
        // Every acknowledged byte is on disk already (O_DSYNC): a failed close loses nothing,
        // and must not reject this chain (an unhandled rejection would end the process).
        const closeFailed = (error: unknown) => logger.warn({ err: error, segment: segment.id }, 'closing a write-ahead segment failed');
        await segment.samples.close().catch(closeFailed);
        await segment.series?.close().catch(closeFailed);
      }
      await insertWithRetry(segments, rows);
      return { rows, upToSeq };
    })().then(({ rows, upToSeq }) => {
      inserting = null;
      insertedSeq = upToSeq;
      queuedRows -= rows;
      metrics?.queueRows(queuedRows);
      barriers.release((seq) => seq <= insertedSeq);
      scheduleInsert();
    });
  }

  async function insertWithRetry(segments: Segment[], rows: number): Promise<void> {
    const batchDir = join(walDir, `batch-${nextId()}`);
    // Set only once every segment is in the batch folder: a move that failed part-way (a
    // full disk) is finished by the next attempt instead of inserting from a partial folder.
    let moved = false;
    for (let attempt = 0; ; attempt++) {
      const started = process.hrtime.bigint();
      try {
        if (!moved) {
          await cutToAcknowledged(segments);
          await moveIntoBatch(segments, batchDir);
          moved = true;
        }
        await insertBatch(store, batchDir, segments);
        await rm(batchDir, { recursive: true, force: true });
        metrics?.inserted(rows, Number(process.hrtime.bigint() - started) / 1e9, 'ok');
        return;
      } catch (error) {
        metrics?.inserted(rows, Number(process.hrtime.bigint() - started) / 1e9, 'error');
        const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]!;
        logger.error({ err: error, batch: batchDir, rows, attempt, retryInMs: delay }, 'insert of acknowledged rows failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Cuts segments whose append failed to what was acknowledged (see Segment). */
  async function cutToAcknowledged(segments: Segment[]): Promise<void> {
    for (const s of segments) {
      if (!s.acknowledgedBytes) continue;
      await cutTo(join(pendingDir, s.id + SAMPLES_SUFFIX), s.acknowledgedBytes.samples);
      if (s.hasSeries) await cutTo(join(pendingDir, s.id + SERIES_SUFFIX), s.acknowledgedBytes.series);
    }
  }

  /**
   * A crash between moving a segment's samples file into its batch and moving its series
   * file leaves the series file in pending/, where segmentsIn would take it for the start of
   * a commit that never completed and delete it: the labels of acknowledged samples. Puts
   * each such file beside its samples file first.
   */
  async function reuniteSeriesFiles(batchDirs: readonly string[]): Promise<void> {
    const pendingNames = new Set(await readdir(pendingDir));
    const moved: string[] = [];
    for (const batchDir of batchDirs) {
      for (const name of await readdir(batchDir)) {
        const series = name.endsWith(SAMPLES_SUFFIX) ? name.slice(0, -SAMPLES_SUFFIX.length) + SERIES_SUFFIX : '';
        if (series === '' || !pendingNames.has(series)) continue;
        await rename(join(pendingDir, series), join(batchDir, series));
        moved.push(batchDir);
      }
    }
    if (moved.length === 0 || !options.fsync) return;
    for (const dir of new Set(moved)) await fsyncDirectory(dir);
    await fsyncDirectory(pendingDir);
  }

  /** Moves the segments into `batchDir`; can be repeated after it failed part-way. */
  async function moveIntoBatch(segments: Segment[], batchDir: string): Promise<void> {
    await mkdir(batchDir, { recursive: true });
    const moveFile = async (name: string) => {
      try {
        await rename(join(pendingDir, name), join(batchDir, name));
      } catch (error) {
        // Moved by an earlier attempt: the source is gone and the target is there.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !(await exists(join(batchDir, name)))) throw error;
      }
    };
    for (const s of segments) {
      await moveFile(s.id + SAMPLES_SUFFIX);
      if (s.hasSeries) await moveFile(s.id + SERIES_SUFFIX);
    }
    if (options.fsync) {
      await fsyncDirectory(batchDir);
      await fsyncDirectory(pendingDir);
      // The batch folder's own entry.
      await fsyncDirectory(walDir);
    }
  }

  return {
    write(batch) {
      if (closed) return Promise.reject(new AppError('INGEST_SHUTTING_DOWN', 'Vigil is shutting down; retry', { retryable: true }));
      if (batch.sampleCount === 0) return Promise.resolve();
      if (queuedRows + batch.sampleCount > options.maxQueuedRows) {
        metrics?.rejected('overload');
        return Promise.reject(new AppError('INGEST_OVERLOADED', `write queue full (${queuedRows} rows not yet stored); retry later`, { retryable: true }));
      }
      queuedRows += batch.sampleCount;
      metrics?.queueRows(queuedRows);
      return new Promise<void>((resolve, reject) => {
        queue.push({ batch, resolve, reject });
        scheduleCommit();
      });
    },
    whenInserted() {
      if (insertedSeq >= committedSeq) return Promise.resolve();
      return barriers.wait(committedSeq, scheduleInsert);
    },
    get queuedRows() {
      return queuedRows;
    },
    async replay() {
      await ready;
      let segments = 0;
      let rows = 0;
      const batches = (await readdir(walDir)).filter((n) => n.startsWith('batch-')).sort();
      await reuniteSeriesFiles(batches.map((name) => join(walDir, name)));
      for (const name of batches) {
        const batchDir = join(walDir, name);
        const found = await segmentsIn(batchDir);
        await insertBatch(store, batchDir, found);
        await rm(batchDir, { recursive: true, force: true });
        segments += found.length;
        rows += found.reduce((n, s) => n + s.rows, 0);
        logger.info({ batch: name, segments: found.length }, 'replayed write-ahead batch');
      }
      const pending = await segmentsIn(pendingDir);
      if (pending.length > 0) {
        const pendingRows = pending.reduce((n, s) => n + s.rows, 0);
        await insertWithRetry(pending, pendingRows);
        segments += pending.length;
        rows += pendingRows;
      }
      return { segments, rows };
    },
    async close() {
      closed = true;
      while (commitsRunning().length > 0 || queue.length > 0) {
        startCommit();
        const running = commitsRunning();
        if (running.length > 0) await Promise.all(running);
        // An insert is taking the committed segments first: let it.
        else await new Promise((resolve) => setImmediate(resolve));
      }
      while (inserting || committed.length > 0) {
        if (!inserting) startInsert();
        if (inserting) await inserting;
      }
      if (insertTimer) clearTimeout(insertTimer);
    },
  };
}

/** Cuts a file to `length`; a file already gone was moved by an earlier attempt, after its cut. */
async function cutTo(path: string, length: number): Promise<void> {
  const size = await stat(path).then(
    (st) => st.size,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return 0;
      throw error;
    },
  );
  if (size > length) await truncate(path, length);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Segments in a folder. A series file without its samples file is dropped: none is expected
 * (a segment's samples file is created first, and replay reunites the files of a segment
 * that a crash split between pending/ and a batch).
 */
async function segmentsIn(dir: string): Promise<Segment[]> {
  const names = await readdir(dir);
  const segments: Segment[] = [];
  for (const name of names.filter((n) => n.endsWith(SAMPLES_SUFFIX)).sort()) {
    const id = name.slice(0, -SAMPLES_SUFFIX.length);
    const size = (await stat(join(dir, name))).size;
    // A crash mid-append can leave part of an unacknowledged row: cut it off.
    if (size % SAMPLE_ROW_BYTES !== 0) await truncate(join(dir, name), size - (size % SAMPLE_ROW_BYTES));
    const hasSeries = names.includes(id + SERIES_SUFFIX);
    if (hasSeries) {
      const seriesPath = join(dir, id + SERIES_SUFFIX);
      const bytes = await readFile(seriesPath);
      const whole = completeSeriesRowsLength(bytes);
      if (whole !== bytes.length) await truncate(seriesPath, whole);
    }
    segments.push({ id, rows: Math.floor(size / SAMPLE_ROW_BYTES), hasSeries });
  }
  for (const name of names.filter((n) => n.endsWith(SERIES_SUFFIX))) {
    if (!names.includes(name.slice(0, -SERIES_SUFFIX.length) + SAMPLES_SUFFIX)) await unlink(join(dir, name));
  }
  return segments;
}

async function insertBatch(store: Store, batchDir: string, segments: Segment[]): Promise<void> {
  if (segments.length === 0) return;
  const token = batchDir.slice(batchDir.lastIndexOf('batch-'));
  const series = segments.filter((s) => s.hasSeries).map((s) => join(batchDir, s.id + SERIES_SUFFIX));
  // Series first, so a sample is never visible without its labels.
  if (series.length > 0) await store.insertRowBinaryFiles('metric_series_v1', SERIES_ROW_LAYOUT, series, `series-${token}`);
  const samples = segments.filter((s) => s.rows > 0).map((s) => join(batchDir, s.id + SAMPLES_SUFFIX));
  if (samples.length > 0) await store.insertRowBinaryFiles('metric_samples_v1', SAMPLE_ROW_LAYOUT, samples, `samples-${token}`);
}

