import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import type { AlertEvent } from '../../src/incidents/alert.js';
import { createAlertService } from '../../src/incidents/alert.service.js';
import { ddlContextOf } from '../../src/main.js';
import { createFixedClock } from '../../src/shared/clock.js';
import { migrate } from '../../src/storage/migrate.js';
import { createRowBatcher } from '../../src/storage/row-batcher.js';
import { createStore } from '../../src/storage/store.js';
import { makeDataDir } from '../helpers/vigil.js';

// Re-sends share their alert's map objects and the row text made from them: what is stored
// per event must still be that event's own labels and annotations.
const dataDir = makeDataDir('vigil-alert-events-');
const config = { ...defaultConfig, storage: { ...defaultConfig.storage, dataDir } };
const store = createStore(config.storage);
const logger = pino({ level: 'silent' });
const batcher = createRowBatcher({ store, journalDir: join(dataDir, 'journal'), fsync: false, logger });
const t0 = Date.parse('2026-11-23T09:00:00Z');

beforeAll(async () => {
  await migrate(store, ddlContextOf(config));
});
afterAll(async () => {
  await batcher.close();
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const event = (receivedAtMs: number, annotations: Record<string, string>): AlertEvent => ({
  source: 'prometheus',
  fingerprint: 'fp-stored',
  labels: { alertname: 'DiskFull', instance: 'db-1:9100' },
  annotations,
  status: 'firing',
  severity: 'major',
  startsAtMs: t0,
  endsAtMs: null,
  receivedAtMs,
});

describe('alert events as stored', () => {
  it('each event row holds its own annotations and the labels; the state row the latest', async () => {
    const clock = createFixedClock(t0);
    const alerts = createAlertService({ store, batcher, clock, logger, resolveTimeoutMs: 300_000, keepResolvedMs: 3_600_000 });
    const sent: Record<string, string>[] = [{ summary: 'a' }, { summary: 'a' }, { summary: 'b', runbook: 'r' }, { summary: 'a' }, {}, { summary: 'a' }];
    await alerts.receive([event(t0 + 1, sent[0]!)]);
    await alerts.receive([event(t0 + 2, sent[1]!)]);
    await alerts.receive([event(t0 + 3, sent[2]!), event(t0 + 4, sent[3]!)]);
    await alerts.receive([event(t0 + 5, sent[4]!)]);
    await alerts.receive([event(t0 + 6, sent[5]!)]);
    await batcher.whenInserted();
    const rows = await store.query<{ labels: Record<string, string>; annotations: Record<string, string> }>(
      'events',
      "SELECT labels, annotations FROM alert_events_v1 WHERE fingerprint = 'fp-stored' ORDER BY received_at",
    );
    expect(rows.map((r) => r.annotations)).toEqual(sent);
    for (const row of rows) expect(row.labels).toEqual({ alertname: 'DiskFull', instance: 'db-1:9100' });
    const [state] = await store.query<{ annotations: Record<string, string>; event_count: string | number }>(
      'state',
      "SELECT annotations, event_count FROM alerts_v1 FINAL WHERE fingerprint = 'fp-stored'",
    );
    expect(state).toMatchObject({ annotations: { summary: 'a' } });
    expect(Number(state?.event_count)).toBe(6);
  });
});
