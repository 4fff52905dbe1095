import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { ALERT_EVENT_LAYOUT, writeAlertEvent } from '../../src/storage/alerts.queries.js';
import { createRowBatcher } from '../../src/storage/row-batcher.js';
import { RowBinaryWriter } from '../../src/storage/row-binary.js';
import { createStore, type Store } from '../../src/storage/store.js';
import { makeDataDir } from '../helpers/vigil.js';
import { waitExit } from '../helpers/vigil-process.js';

// The child owns the data directory until it is killed; then this process opens it (one chdb per process).
const dataDir = makeDataDir('vigil-row-journal-crash-');
const child = join(import.meta.dirname, '../helpers/row-journal-child.ts');
let store: Store | null = null;

afterAll(async () => {
  await store?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('row journal: SIGKILL during a stream of inserts', () => {
  it('replays every acknowledged row, exactly once, also when the replay is repeated', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked = new Set<number>();
    let output = '';
    const ready = new Promise<void>((resolve) => {
      proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        const lines = output.split('\n');
        output = lines.pop()!;
        for (const line of lines) {
          if (line === 'ready') resolve();
          const [first, last] = line.split(' ').map(Number);
          if (first !== undefined && last !== undefined && !Number.isNaN(last)) for (let seq = first; seq <= last; seq++) acked.add(seq);
        }
      });
    });
    await ready;
    await new Promise((r) => setTimeout(r, 1500));
    proc.kill('SIGKILL');
    await waitExit(proc);
    expect(acked.size).toBeGreaterThan(500);
    // The kill must have left acknowledged rows in the journal, or replay went untested.
    const journalDir = join(dataDir, 'journal');
    expect(readdirSync(journalDir).length).toBeGreaterThan(0);
    // A torn append, which SIGKILL alone does not make (the kernel finishes a write): half a
    // row after the last whole one of the alert events' RowBinary file. Replay cuts it off.
    const binary = readdirSync(journalDir).filter((name) => name.endsWith(`.alert_events_v1.${ALERT_EVENT_LAYOUT.name}.rb`));
    expect(binary.length).toBeGreaterThan(0);
    const torn = new RowBinaryWriter();
    writeAlertEvent(torn, { source: 'vigil', fingerprint: 'crash-torn', labels: { a: 'b' }, annotations: {}, status: 'firing', severity: 'major', startsAtMs: 0, endsAtMs: null, receivedAtMs: Date.now() }, 0, 1, 0);
    const row = torn.take();
    appendFileSync(join(journalDir, binary.at(-1)!), row.subarray(0, Math.floor(row.length / 2)));
    const leftBehind = join(dataDir, 'journal-copy');
    cpSync(journalDir, leftBehind, { recursive: true });

    store = createStore({ ...defaultConfig.storage, dataDir });
    const logger = pino({ level: 'silent' });
    const first = createRowBatcher({ store, journalDir, fsync: true, logger });
    expect((await first.replay()).files).toBeGreaterThan(0);
    await first.close();
    const afterFirst = await stored(store);

    // A second crash, during the first replay: the same segments are replayed again.
    rmSync(journalDir, { recursive: true, force: true });
    cpSync(leftBehind, journalDir, { recursive: true });
    const second = createRowBatcher({ store, journalDir, fsync: true, logger });
    expect((await second.replay()).files).toBeGreaterThan(0);
    await second.close();
    const afterSecond = await stored(store);

    for (const rows of [afterFirst, afterSecond]) {
      // Every acknowledged row is there, in both tables; nothing is there twice.
      expect(rows.events.duplicates).toBe(0);
      expect(rows.alerts.duplicates).toBe(0);
      expect([...acked].filter((seq) => !rows.events.seqs.has(seq))).toEqual([]);
      expect([...acked].filter((seq) => !rows.alerts.seqs.has(seq))).toEqual([]);
      expect(rows.alerts.torn).toBe(0);
    }
    expect(afterSecond.events.seqs.size).toBe(afterFirst.events.seqs.size);
  }, 60_000);
});

async function stored(store: Store) {
  const events = await store.query<{ seq: string | number; n: string | number }>('t', "SELECT seq, count() AS n FROM incident_events_v1 WHERE incident_id = 'crash' GROUP BY seq");
  const alerts = await store.query<{ fp: string; n: string | number }>(
    't',
    "SELECT fingerprint AS fp, count() AS n FROM alert_events_v1 WHERE startsWith(fingerprint, 'crash-') AND fingerprint != 'crash-torn' GROUP BY fp",
  );
  const [torn] = await store.query<{ n: string | number }>('t', "SELECT count() AS n FROM alert_events_v1 WHERE fingerprint = 'crash-torn'");
  return {
    events: { seqs: new Set(events.map((r) => Number(r.seq))), duplicates: events.filter((r) => Number(r.n) > 1).length },
    alerts: { seqs: new Set(alerts.map((r) => Number(r.fp.slice('crash-'.length)))), duplicates: alerts.filter((r) => Number(r.n) > 1).length, torn: Number(torn?.n) },
  };
}
