import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { ddlContextOf } from '../../src/main.js';
import { AppError } from '../../src/shared/errors.js';
import { migrate } from '../../src/storage/migrate.js';
import { createRowBatcher, type RowBatcherMetrics } from '../../src/storage/row-batcher.js';
import { INCIDENT_ALERT_LAYOUT, writeIncidentAlert } from '../../src/storage/incidents.queries.js';
import { ALERT_EVENT_LAYOUT_1, listAlertEvents, writeAlertEvent } from '../../src/storage/alerts.queries.js';
import { RowBinaryWriter, rowBinaryLayout } from '../../src/storage/row-binary.js';
import { createStore } from '../../src/storage/store.js';
import { until } from '../helpers/until.js';
import { makeDataDir } from '../helpers/vigil.js';

// The real engine and real files; one chdb data directory for the whole file.
const dataDir = makeDataDir('vigil-row-journal-');
const config = { ...defaultConfig, storage: { ...defaultConfig.storage, dataDir } };
const store = createStore(config.storage);
const logger = pino({ level: 'silent' });
let journalCount = 0;

/** A batcher on a journal folder of its own. */
function batcherFor(options: { maxQueuedRows?: number; metrics?: RowBatcherMetrics; maxDelayMs?: number; dueBytes?: number } = {}) {
  const journalDir = join(dataDir, `journal-${++journalCount}`);
  return { journalDir, batcher: createRowBatcher({ store, journalDir, fsync: true, logger, ...options }) };
}

const timelineRow = (incidentId: string, seq: number) => ({ incident_id: incidentId, at: '2026-11-23 12:00:00.000', seq, actor: 'test', kind: 'comment', detail: '{}' });
const line = (row: Record<string, unknown>) => JSON.stringify(row) + '\n';

async function timelineSeqs(incidentId: string): Promise<number[]> {
  const rows = await store.query<{ seq: string | number }>('t', 'SELECT seq FROM incident_events_v1 WHERE incident_id = {id:String} ORDER BY seq', { id: incidentId });
  return rows.map((r) => Number(r.seq));
}

beforeAll(async () => {
  await migrate(store, ddlContextOf(config));
});
afterAll(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('row journal', () => {
  it('acknowledges the callers of one turn with one commit, and inserts what it acknowledged', async () => {
    const commits: number[] = [];
    const metrics: RowBatcherMetrics = { queued: () => undefined, committed: (rows) => commits.push(rows), inserted: () => undefined, rejected: () => undefined };
    const { journalDir, batcher } = batcherFor({ metrics });
    await Promise.all([
      batcher.insert('incident_events_v1', [timelineRow('i-ack', 1), timelineRow('i-ack', 2)]),
      batcher.insert('incident_events_v1', [timelineRow('i-ack', 3)]),
      batcher.insert('alerts_v1', [
        { fingerprint: 'fp-ack', source: 'vigil', status: 'firing', severity: 'major', labels: { a: 'b' }, annotations: {}, starts_at: '2026-11-23 12:00:00.000', ends_at: null, generator_url: '', first_seen_at: '2026-11-23 12:00:00.000', last_seen_at: '2026-11-23 12:00:00.000', resolved_at: null, event_count: 1, version: 1 },
      ]),
    ]);
    expect(commits).toEqual([4]);
    await batcher.whenInserted();
    expect(batcher.queuedRows).toBe(0);
    expect(await timelineSeqs('i-ack')).toEqual([1, 2, 3]);
    const [alert] = await store.query<{ labels: Record<string, string> }>('t', "SELECT labels FROM alerts_v1 FINAL WHERE fingerprint = 'fp-ack'");
    expect(alert?.labels).toEqual({ a: 'b' });
    // Inserted segments are deleted.
    expect(readdirSync(journalDir)).toEqual([]);
    await batcher.close();
  });

  it('keeps the order of commits across segments, and close() inserts everything acknowledged', async () => {
    const { batcher } = batcherFor();
    const acks: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      acks.push(batcher.insert('incident_events_v1', [timelineRow('i-many', i)]));
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(acks);
    await batcher.close();
    expect(await timelineSeqs('i-many')).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await expect(batcher.insert('incident_events_v1', [timelineRow('i-many', 99)])).rejects.toMatchObject({ code: 'INGEST_SHUTTING_DOWN', retryable: true });
  });

  it('inserts the rows of a table once they reach dueBytes, without waiting maxDelayMs', async () => {
    const { batcher } = batcherFor({ maxDelayMs: 60_000, dueBytes: 2048 });
    await batcher.insert('incident_events_v1', [timelineRow('i-due', 1)]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await timelineSeqs('i-due')).toEqual([]);
    await batcher.insert('incident_events_v1', Array.from({ length: 30 }, (_, i) => timelineRow('i-due', i + 2)));
    await until('the due file inserted', async () => ((await timelineSeqs('i-due')).length === 31 ? true : undefined), 5_000);
    await batcher.close();
  });

  it('inserts rows no read waits for by itself, once they waited maxDelayMs', async () => {
    const journalDir = join(dataDir, `journal-${++journalCount}`);
    const batcher = createRowBatcher({ store, journalDir, fsync: true, logger, maxDelayMs: 50 });
    await batcher.insert('incident_events_v1', [timelineRow('i-delay', 1)]);
    const started = Date.now();
    while ((await timelineSeqs('i-delay')).length === 0) {
      expect(Date.now() - started).toBeLessThan(5_000);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    await batcher.close();
    expect(batcher.queuedRows).toBe(0);
  });

  it('replays segments a crash left behind, each row exactly once even when a replay is itself repeated', async () => {
    const { journalDir } = batcherFor();
    mkdirSync(journalDir, { recursive: true });
    // Segment A was inserted before the crash, but not yet deleted; B was still open.
    const a = [timelineRow('i-replay', 1), timelineRow('i-replay', 2)].map(line).join('');
    const b = [timelineRow('i-replay', 3)].map(line).join('');
    const fileA = join(journalDir, '0000000aa-000000001.incident_events_v1.jsonl');
    const fileB = join(journalDir, '0000000aa-000000002.incident_events_v1.jsonl');
    writeFileSync(fileA, a);
    writeFileSync(fileB, b);
    await store.insertJsonFiles('incident_events_v1', [fileA], 'rows-0000000aa-000000001');
    expect(await timelineSeqs('i-replay')).toEqual([1, 2]);

    const first = createRowBatcher({ store, journalDir, fsync: true, logger });
    expect(await first.replay()).toEqual({ files: 2, bytes: a.length + b.length });
    expect(await timelineSeqs('i-replay')).toEqual([1, 2, 3]);
    expect(readdirSync(journalDir)).toEqual([]);
    await first.close();

    // A crash during that replay, before its deletes: the same files again.
    writeFileSync(fileA, a);
    writeFileSync(fileB, b);
    const second = createRowBatcher({ store, journalDir, fsync: true, logger });
    expect((await second.replay()).files).toBe(2);
    expect(await timelineSeqs('i-replay')).toEqual([1, 2, 3]);
    await second.close();
  });

  it('cuts a torn last line (a kill mid-append) and inserts the whole lines before it', async () => {
    const { journalDir } = batcherFor();
    mkdirSync(journalDir, { recursive: true });
    const whole = [timelineRow('i-torn', 1), timelineRow('i-torn', 2)].map(line).join('');
    const torn = line(timelineRow('i-torn', 3)).slice(0, 25);
    writeFileSync(join(journalDir, '0000000bb-000000001.incident_events_v1.jsonl'), whole + torn);
    // A file holding only a torn line, and an empty one (created, nothing appended yet).
    writeFileSync(join(journalDir, '0000000bb-000000001.alerts_v1.jsonl'), '{"fingerprint":"fp-to');
    writeFileSync(join(journalDir, '0000000bb-000000002.incident_events_v1.jsonl'), '');
    const batcher = createRowBatcher({ store, journalDir, fsync: true, logger });
    expect(await batcher.replay()).toEqual({ files: 3, bytes: whole.length });
    expect(await timelineSeqs('i-torn')).toEqual([1, 2]);
    expect(readdirSync(journalDir)).toEqual([]);
    await batcher.close();
  });

  it('replays alert events of the layout before 016 (maps always whole): seq 0, read back as written', async () => {
    const { journalDir } = batcherFor();
    mkdirSync(journalDir, { recursive: true });
    const receivedAtMs = Date.now() - 60_000;
    const out = new RowBinaryWriter();
    for (const [i, summary] of ['first', 'second'].entries()) {
      const at = out.length;
      const alert = { source: 'prometheus', fingerprint: 'fp-layout-1', labels: { alertname: 'Old' }, annotations: { summary }, status: 'firing', severity: 'major', startsAtMs: receivedAtMs, endsAtMs: null, receivedAtMs: receivedAtMs + i } as const;
      writeAlertEvent(out, alert, receivedAtMs, 1, 0);
      // alert-event-1 rows end before `seq` (UInt64) and `repeats` (UInt8).
      expect(out.length - at).toBeGreaterThan(9);
    }
    const rows = out.take();
    const rowLength = rows.length / 2;
    const oldRows = Buffer.concat([rows.subarray(0, rowLength - 9), rows.subarray(rowLength, rows.length - 9)]);
    writeFileSync(join(journalDir, `0000000dd-000000001.alert_events_v1.${ALERT_EVENT_LAYOUT_1.name}.rb`), oldRows);
    const batcher = createRowBatcher({ store, journalDir, fsync: true, logger });
    expect(await batcher.replay()).toEqual({ files: 1, bytes: oldRows.length });
    const { events } = await listAlertEvents(store, 'fp-layout-1', { limit: 10, offset: 0 });
    // Newest first.
    expect(events.map((e) => [e.seq, e.labels, e.annotations])).toEqual([
      [0, { alertname: 'Old' }, { summary: 'second' }],
      [0, { alertname: 'Old' }, { summary: 'first' }],
    ]);
    await batcher.close();
  });

  it('keeps a RowBinary file of a layout it does not know, and fails the replay naming it', async () => {
    const { journalDir } = batcherFor();
    mkdirSync(journalDir, { recursive: true });
    const name = '0000000cc-000000001.alert_events_v1.alert-event-99.rb';
    writeFileSync(join(journalDir, name), Buffer.from([1, 2, 3]));
    const batcher = createRowBatcher({ store, journalDir, fsync: true, logger });
    await expect(batcher.replay()).rejects.toThrow(`journal file ${name} holds rows of layout "alert-event-99"`);
    expect(readdirSync(journalDir)).toEqual([name]);
    await batcher.close();
    rmSync(join(journalDir, name));
  });

  it('journals a table in one form: RowBinary rows for a table journaled as JSON are refused', async () => {
    const { batcher } = batcherFor();
    await batcher.insert('incident_events_v1', [timelineRow('i-form', 1)]);
    const out = new RowBinaryWriter();
    out.string('x');
    const layout = rowBinaryLayout('test-1', [{ name: 'incident_id', type: 'String', kind: 'string' }]);
    await expect(batcher.insertAll([{ table: 'incident_events_v1', binary: out.take(), rowCount: 1, layout }])).rejects.toThrow('table incident_events_v1 is journaled as json, not test-1');
    await batcher.close();
  });

  it('rejects the callers of a failed append with a retryable error, and recovers once the disk does', async () => {
    const { journalDir, batcher } = batcherFor();
    await batcher.insert('incident_events_v1', [timelineRow('i-fail', 1)]);
    await batcher.whenInserted();
    // The next commit opens a new segment file, in a folder that is gone.
    rmSync(journalDir, { recursive: true, force: true });
    const failed = await Promise.allSettled([
      batcher.insert('incident_events_v1', [timelineRow('i-fail', 2)]),
      batcher.insert('alerts_v1', [{ fingerprint: 'fp-fail' }]),
    ]);
    for (const result of failed) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason as AppError;
      expect(reason).toBeInstanceOf(AppError);
      expect(reason).toMatchObject({ code: 'STORAGE_WRITE_FAILED', retryable: true, httpStatus: 503 });
    }
    expect(batcher.queuedRows).toBe(0);
    mkdirSync(journalDir);
    await batcher.insert('incident_events_v1', [timelineRow('i-fail', 3)]);
    await batcher.whenInserted();
    expect(await timelineSeqs('i-fail')).toEqual([1, 3]);
    await batcher.close();
  });

  it('refuses rows past its bound with the overloaded error senders retry (503), and accepts again once drained', async () => {
    const rejected: string[] = [];
    const metrics: RowBatcherMetrics = { queued: () => undefined, committed: () => undefined, inserted: () => undefined, rejected: (reason) => rejected.push(reason) };
    const { batcher } = batcherFor({ maxQueuedRows: 10, metrics });
    const rows = (from: number) => Array.from({ length: 6 }, (_, i) => timelineRow('i-full', from + i));
    const first = batcher.insert('incident_events_v1', rows(0));
    const second = batcher.insert('incident_events_v1', rows(6));
    await expect(second).rejects.toMatchObject({ code: 'INGEST_OVERLOADED', retryable: true, httpStatus: 503 });
    await first;
    expect(rejected).toEqual(['overload']);
    await batcher.whenInserted();
    await batcher.insert('incident_events_v1', rows(6));
    await batcher.close();
    expect(await timelineSeqs('i-full')).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it('takes rows for several tables all or none: a full journal refuses the whole set', async () => {
    const memberRows = (fingerprints: string[]) => {
      const out = new RowBinaryWriter();
      for (const fingerprint of fingerprints) writeIncidentAlert(out, 'i-set', fingerprint, Date.UTC(2026, 10, 23, 12));
      return out.take();
    };
    const { batcher } = batcherFor({ maxQueuedRows: 10 });
    const first = batcher.insert('incident_events_v1', Array.from({ length: 7 }, (_, i) => timelineRow('i-set', i)));
    // 2 + 2 rows would pass the bound of 10: neither table's rows may go in.
    const set = batcher.insertAll([
      { table: 'incident_events_v1', rows: [timelineRow('i-set', 100), timelineRow('i-set', 101)] },
      { table: 'incident_alerts_v1', binary: memberRows(['a', 'b']), rowCount: 2, layout: INCIDENT_ALERT_LAYOUT },
    ]);
    await expect(set).rejects.toMatchObject({ code: 'INGEST_OVERLOADED', httpStatus: 503 });
    await first;
    expect(batcher.queuedRows).toBeLessThanOrEqual(7);
    await batcher.close();
    expect(await timelineSeqs('i-set')).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const members = await store.query<{ n: string | number }>('m', "SELECT count() AS n FROM incident_alerts_v1 WHERE incident_id = 'i-set'");
    expect(Number(members[0]!.n)).toBe(0);
  });

  it('whenInserted() waits for rows acknowledged before it, also while an insert is running', async () => {
    const { batcher } = batcherFor();
    await batcher.insert('incident_events_v1', [timelineRow('i-barrier', 1)]);
    // The first insert has started; this row goes to the next segment.
    await batcher.insert('incident_events_v1', [timelineRow('i-barrier', 2)]);
    await batcher.whenInserted();
    expect(await timelineSeqs('i-barrier')).toEqual([1, 2]);
    // A read of one table waits for that table's rows (which the journal inserts first).
    await Promise.all([
      // Dated now: a row of 1970 (the default) is past the alert event retention and dropped.
      batcher.insert('alert_events_v1', [{ received_at: new Date().toISOString().replace('T', ' ').replace('Z', ''), fingerprint: 'fp-barrier', labels: {}, annotations: {} }]),
      batcher.insert('incident_events_v1', [timelineRow('i-barrier', 3)]),
    ]);
    await batcher.whenInserted(['incident_events_v1']);
    expect(await timelineSeqs('i-barrier')).toEqual([1, 2, 3]);
    await batcher.whenInserted(['alert_events_v1']);
    const [events] = await store.query<{ n: string }>('t', "SELECT count() AS n FROM alert_events_v1 WHERE fingerprint = 'fp-barrier'");
    expect(Number(events?.n)).toBe(1);
    await batcher.close();
  });

  it('skips, after two failed attempts, a row ClickHouse cannot parse, rather than stalling every row behind it', async () => {
    const outcomes: string[] = [];
    const metrics: RowBatcherMetrics = { queued: () => undefined, committed: () => undefined, inserted: (_r, _b, _s, outcome) => outcomes.push(outcome), rejected: () => undefined };
    const { batcher } = batcherFor({ metrics });
    await batcher.insert('incident_events_v1', [timelineRow('i-poison', 1), { ...timelineRow('i-poison', 2), seq: 'not a number' }, timelineRow('i-poison', 3)]);
    await batcher.whenInserted();
    expect(outcomes).toEqual(['error', 'error', 'ok']);
    expect(await timelineSeqs('i-poison')).toEqual([1, 3]);
    await batcher.close();
  });

  it('refuses rows that are not JSON, and table names that are not identifiers, before journaling them', async () => {
    const { batcher } = batcherFor();
    await expect(batcher.insert('incident_events_v1', [{ seq: 1n }])).rejects.toMatchObject({ code: 'STORAGE_WRITE_FAILED' });
    await expect(batcher.insert('x; DROP TABLE y', [{ a: 1 }])).rejects.toMatchObject({ code: 'STORAGE_WRITE_FAILED' });
    expect(batcher.queuedRows).toBe(0);
    await batcher.close();
  });

  it('stores text JSON.stringify cannot make valid UTF-8 (a lone surrogate) rather than stalling the journal', async () => {
    const { batcher, journalDir } = batcherFor();
    await batcher.insert('incident_events_v1', [{ ...timelineRow('i-surrogate', 1), actor: 'bad \ud800 actor' }, timelineRow('i-surrogate', 2)]);
    await batcher.whenInserted();
    expect(await timelineSeqs('i-surrogate')).toEqual([1, 2]);
    expect(existsSync(journalDir) && readdirSync(journalDir)).toEqual([]);
    await batcher.close();
  });
});
