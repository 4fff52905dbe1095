/**
 * A process that only journals rows, for crash tests: `node --import tsx row-journal-child.ts <dataDir>`.
 * Prints `ready`, then one line `<table> <first> <last>` per acknowledged insert of seqs
 * first..last, until it is killed.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { defaultConfig } from '../../src/config/index.js';
import { ddlContextOf } from '../../src/main.js';
import { ALERT_EVENT_LAYOUT, writeAlertEvent } from '../../src/storage/alerts.queries.js';
import { migrate } from '../../src/storage/migrate.js';
import { RowBinaryWriter } from '../../src/storage/row-binary.js';
import { createRowBatcher } from '../../src/storage/row-batcher.js';
import { createStore } from '../../src/storage/store.js';

const dataDir = process.argv[2]!;
const config = { ...defaultConfig, storage: { ...defaultConfig.storage, dataDir } };
const store = createStore(config.storage);
await migrate(store, ddlContextOf(config));
const batcher = createRowBatcher({ store, journalDir: join(dataDir, 'journal'), fsync: true, logger: pino({ level: 'silent' }) });
process.stdout.write('ready\n');

const ROWS_PER_INSERT = 20;
const nowMs = Date.now();
let next = 0;
async function sender(): Promise<never> {
  for (;;) {
    const first = next;
    next += ROWS_PER_INSERT;
    const seqs = Array.from({ length: ROWS_PER_INSERT }, (_, i) => first + i);
    await Promise.all([
      batcher.insert('incident_events_v1', seqs.map((seq) => ({ incident_id: 'crash', at: '2026-11-23 12:00:00.000', seq, actor: 'child', kind: 'comment', detail: '{}' }))),
      // As the alert service journals them: RowBinary. Now, not a fixed day: alert events have
      // a retention (TTL) that would drop old ones.
      batcher.insertAll([{ table: 'alert_events_v1', binary: alertEvents(seqs), rowCount: seqs.length, layout: ALERT_EVENT_LAYOUT }]),
    ]);
    process.stdout.write(`${first} ${first + ROWS_PER_INSERT - 1}\n`);
  }
}
function alertEvents(seqs: number[]): Buffer {
  const out = new RowBinaryWriter();
  for (const seq of seqs) {
    writeAlertEvent(
      out,
      { source: 'vigil', fingerprint: `crash-${seq}`, labels: { seq: String(seq) }, annotations: {}, status: 'firing', severity: 'major', startsAtMs: nowMs, endsAtMs: null, receivedAtMs: nowMs },
      nowMs,
      1,
      0,
    );
  }
  return out.take();
}

await Promise.all([sender(), sender(), sender(), sender()]);
