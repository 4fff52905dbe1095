import { mkdir, open, readdir, unlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { markSeriesCommitted, SAMPLE_ROW_STRUCTURE, SERIES_ROW_STRUCTURE, type SampleBatch } from '../ingest/sample-batch.js';
import { AppError } from '../shared/errors.js';
import type { Store } from './store.js';

/** What the writer reports to /metrics; the observability module implements it. */
export interface WriterMetrics {
  queueRows(rows: number): void;
  flushed(rows: number, seconds: number, outcome: 'ok' | 'error'): void;
  rejected(reason: 'overload'): void;
}

export interface SampleWriterOptions {
  store: Store;
  /** Folder of write-ahead segments. */
  walDir: string;
  maxBatchRows: number;
  /** Upper bound on how long rows wait while a flush is already running. */
  flushIntervalMs: number;
  maxQueuedRows: number;
  fsync: boolean;
  logger: Logger;
  metrics?: WriterMetrics;
}

export interface SampleWriter {
  /**
   * Resolves once the batch is committed: its segment is fsynced and inserted.
   * Rejects with a retryable AppError (503) when the queue is full or the flush failed;
   * nothing of a rejected batch is acknowledged.
   */
  write(batch: SampleBatch): Promise<void>;
  /** Rows queued or being flushed. */
  readonly queuedRows: number;
  /** Inserts the segments a previous process left behind. Run once at start, before write(). */
  replay(): Promise<{ segments: number; rows: number }>;
  /** Flushes what is queued, then refuses new writes. */
  close(): Promise<void>;
}

interface Pending {
  batch: SampleBatch;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const SEGMENT_SAMPLES = '.samples.rb';
const SEGMENT_SERIES = '.series.rb';

/**
 * Group commit: rows of concurrent requests share one segment and one insert per table.
 * Flushes run one at a time; rows that arrive meanwhile form the next flush, which starts
 * as soon as the running one ends (so batches grow with load, and an idle system
 * answers at once). The segment is the write-ahead log: written and fsynced before the
 * insert, deleted after it; a crash in between is repaired by replay(), where the segment
 * id as insert_deduplication_token makes a second insert of the same rows a no-op.
 */
export function createSampleWriter(options: SampleWriterOptions): SampleWriter {
  const { store, walDir, logger, metrics } = options;
  let queue: Pending[] = [];
  let queuedRows = 0;
  let flushing: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  let segmentSeq = 0;
  // Segment ids sort by time and cannot repeat across restarts of this data directory.
  const runId = Date.now().toString(36);
  let walReady: Promise<unknown> | null = null;

  function scheduleFlush(): void {
    if (flushing) return; // the running flush starts the next one when it ends
    if (queuedRowsWaiting() >= options.maxBatchRows) {
      startFlush();
      return;
    }
    // No flush running: start now. Waiting would only add latency, rows arriving during
    // this flush are batched into the next one.
    if (!timer) timer = setTimeout(startFlush, 0);
  }

  function queuedRowsWaiting(): number {
    let rows = 0;
    for (const p of queue) rows += p.batch.sampleCount;
    return rows;
  }

  function startFlush(): void {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    if (flushing || queue.length === 0) return;
    const taken = takeBatch();
    flushing = flushBatch(taken).finally(() => {
      flushing = null;
      if (queue.length > 0) startFlush();
    });
  }

  function takeBatch(): Pending[] {
    let rows = 0;
    let count = 0;
    while (count < queue.length && (count === 0 || rows + queue[count]!.batch.sampleCount <= options.maxBatchRows)) {
      rows += queue[count]!.batch.sampleCount;
      count++;
    }
    const taken = queue.slice(0, count);
    queue = queue.slice(count);
    return taken;
  }

  async function flushBatch(taken: Pending[]): Promise<void> {
    const started = process.hrtime.bigint();
    const rows = taken.reduce((n, p) => n + p.batch.sampleCount, 0);
    const segmentId = `${runId}-${String(++segmentSeq).padStart(9, '0')}`;
    try {
      walReady ??= mkdir(walDir, { recursive: true });
      await walReady;
      const samplesPath = join(walDir, segmentId + SEGMENT_SAMPLES);
      const seriesPath = join(walDir, segmentId + SEGMENT_SERIES);
      const seriesBuffers = taken.map((p) => p.batch.seriesRows).filter((b) => b.length > 0);
      // Series first: a crash after this still leaves a complete samples segment to replay.
      if (seriesBuffers.length > 0) await writeSegmentFile(seriesPath, seriesBuffers, options.fsync);
      await writeSegmentFile(samplesPath, taken.map((p) => p.batch.samples), options.fsync);
      await insertSegment(store, segmentId, seriesBuffers.length > 0 ? seriesPath : null, samplesPath);
      await removeSegment(walDir, segmentId);
      for (const p of taken) markSeriesCommitted(p.batch);
      metrics?.flushed(rows, Number(process.hrtime.bigint() - started) / 1e9, 'ok');
      for (const p of taken) p.resolve();
    } catch (error) {
      metrics?.flushed(rows, Number(process.hrtime.bigint() - started) / 1e9, 'error');
      logger.error({ err: error, segmentId, rows }, 'flush failed; senders will retry');
      // The segment may be partly written or already inserted; leave the files for replay
      // only if complete. Removing is safe: the senders retry the whole request.
      await removeSegment(walDir, segmentId).catch(() => undefined);
      const failure = new AppError('STORAGE_WRITE_FAILED', `storage write failed: ${(error as Error).message}`, { retryable: true, cause: error });
      for (const p of taken) p.reject(failure);
    } finally {
      queuedRows -= rows;
      metrics?.queueRows(queuedRows);
    }
  }

  return {
    write(batch) {
      if (closed) return Promise.reject(new AppError('INGEST_SHUTTING_DOWN', 'Vigil is shutting down', { retryable: true }));
      if (batch.sampleCount === 0) return Promise.resolve();
      if (queuedRows + batch.sampleCount > options.maxQueuedRows) {
        metrics?.rejected('overload');
        return Promise.reject(
          new AppError('INGEST_OVERLOADED', `write queue full (${queuedRows} rows waiting); retry later`, { retryable: true }),
        );
      }
      queuedRows += batch.sampleCount;
      metrics?.queueRows(queuedRows);
      return new Promise<void>((resolve, reject) => {
        queue.push({ batch, resolve, reject });
        scheduleFlush();
      });
    },
    get queuedRows() {
      return queuedRows;
    },
    async replay() {
      let entries: string[];
      try {
        entries = await readdir(walDir);
      } catch {
        return { segments: 0, rows: 0 };
      }
      const ids = [...new Set(entries.filter((e) => e.endsWith(SEGMENT_SAMPLES)).map((e) => e.slice(0, -SEGMENT_SAMPLES.length)))].sort();
      let rows = 0;
      for (const id of ids) {
        const samplesPath = join(walDir, id + SEGMENT_SAMPLES);
        const seriesPath = join(walDir, id + SEGMENT_SERIES);
        const seriesExists = entries.includes(id + SEGMENT_SERIES);
        rows += Math.floor((await stat(samplesPath)).size / 24);
        await insertSegment(store, id, seriesExists ? seriesPath : null, samplesPath);
        await removeSegment(walDir, id);
        logger.info({ segmentId: id }, 'replayed write-ahead segment');
      }
      // Series files without samples come from a crash before the samples file was written:
      // nothing was acknowledged from them.
      for (const e of entries) if (e.endsWith(SEGMENT_SERIES) && !ids.includes(e.slice(0, -SEGMENT_SERIES.length))) await unlink(join(walDir, e));
      return { segments: ids.length, rows };
    },
    async close() {
      closed = true;
      while (flushing || queue.length > 0) {
        startFlush();
        if (flushing) await flushing;
      }
    },
  };
}

async function writeSegmentFile(path: string, buffers: Buffer[], fsync: boolean): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writev(buffers);
    if (fsync) await handle.datasync();
  } finally {
    await handle.close();
  }
}

async function insertSegment(store: Store, segmentId: string, seriesPath: string | null, samplesPath: string): Promise<void> {
  if (seriesPath) await store.insertRowBinaryFile('metric_series_v1', SERIES_ROW_STRUCTURE, seriesPath, `series-${segmentId}`);
  await store.insertRowBinaryFile('metric_samples_v1', SAMPLE_ROW_STRUCTURE, samplesPath, `samples-${segmentId}`);
}

async function removeSegment(walDir: string, segmentId: string): Promise<void> {
  await unlink(join(walDir, segmentId + SEGMENT_SAMPLES)).catch(ignoreMissing);
  await unlink(join(walDir, segmentId + SEGMENT_SERIES)).catch(ignoreMissing);
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
