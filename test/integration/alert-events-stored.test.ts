import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import type { AlertEvent } from '../../src/incidents/alert.js';
import { createAlertService } from '../../src/incidents/alert.service.js';
import { ddlContextOf } from '../../src/main.js';
import { createFixedClock } from '../../src/shared/clock.js';
import { CURRENT_ALERTS, listAlerts, loadRecentAlerts } from '../../src/storage/alerts.queries.js';
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
// An hour of yesterday (UTC): event rows dated on a fixed day would fall out of the alert
// event retention (a TTL) as the calendar moves on.
const t0 = Math.floor((Date.now() - 86_400_000) / 3_600_000) * 3_600_000;

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
      `SELECT annotations, event_count FROM ${CURRENT_ALERTS} WHERE fingerprint = 'fp-stored'`,
    );
    expect(state).toMatchObject({ annotations: { summary: 'a' } });
    expect(Number(state?.event_count)).toBe(6);
  });

  it('a re-send that only renews the lease stores its event, no state row; reads add the events up', async () => {
    // Merges would fold extra state rows away and hide them from the count below.
    await store.command('stop merges', 'SYSTEM STOP MERGES alerts_v1');
    const clock = createFixedClock(t0);
    const alerts = createAlertService({ store, batcher, clock, logger, resolveTimeoutMs: 300_000, keepResolvedMs: 3_600_000 });
    const renewal = (receivedAtMs: number): AlertEvent => ({ ...event(receivedAtMs, { summary: 'lease' }), fingerprint: 'fp-lease', endsAtMs: receivedAtMs + 240_000 });
    await alerts.receive([renewal(t0 + 60_000)]);
    await alerts.receive([renewal(t0 + 120_000)]);
    await alerts.receive([renewal(t0 + 180_000)]);
    await batcher.whenInserted();
    const rows = await store.query<{ n: string | number }>('rows', "SELECT count() AS n FROM alerts_v1 WHERE fingerprint = 'fp-lease'");
    expect(Number(rows[0]!.n)).toBe(1);
    const expected = { status: 'firing', eventCount: 3, firstSeenAtMs: t0 + 60_000, lastSeenAtMs: t0 + 180_000, endsAtMs: t0 + 420_000 };
    expect(alerts.get('fp-lease')).toMatchObject(expected);
    const listed = await listAlerts(store, { status: 'firing', limit: 100, offset: 0 });
    expect(listed.alerts.find((a) => a.fingerprint === 'fp-lease')).toMatchObject(expected);
    // As rebuilt after a restart: the lease of the latest event, not of the one stored state row.
    const rebuilt = await loadRecentAlerts(store, t0);
    expect(rebuilt.find((a) => a.fingerprint === 'fp-lease')).toMatchObject(expected);

    // The lease runs out: resolving is a state change, stored with the latest figures.
    clock.set(t0 + 420_000);
    expect(await alerts.expireLeases()).toBe(1);
    await batcher.whenInserted();
    const [resolved] = await store.query<{ status: string; event_count: string | number; last_seen_ms: string | number }>(
      'resolved',
      "SELECT status, event_count, toUnixTimestamp64Milli(last_seen_at) AS last_seen_ms FROM alerts_v1 FINAL WHERE fingerprint = 'fp-lease'",
    );
    expect(resolved).toMatchObject({ status: 'resolved' });
    expect(Number(resolved!.event_count)).toBe(3);
    expect(Number(resolved!.last_seen_ms)).toBe(t0 + 180_000);
    expect((await loadRecentAlerts(store, t0)).find((a) => a.fingerprint === 'fp-lease')).toMatchObject({ ...expected, status: 'resolved', resolvedAtMs: t0 + 420_000 });
    await store.command('start merges', 'SYSTEM START MERGES alerts_v1');
  });

  it('a lease renewed in the same millisecond as the state row is not lost on reading back', async () => {
    const clock = createFixedClock(t0 + 500_000);
    const alerts = createAlertService({ store, batcher, clock, logger, resolveTimeoutMs: 300_000, keepResolvedMs: 3_600_000 });
    const at = (endsAtMs: number): AlertEvent => ({ ...event(t0 + 500_000, { summary: 'tie' }), fingerprint: 'fp-tie', endsAtMs });
    // Same arrival time (a Prometheus HA pair): the first stores a state row, the second only its event.
    await alerts.receive([at(t0 + 740_000)]);
    await alerts.receive([at(t0 + 800_000)]);
    expect(alerts.get('fp-tie')).toMatchObject({ eventCount: 2, endsAtMs: t0 + 800_000 });
    await batcher.whenInserted();
    expect((await loadRecentAlerts(store, t0)).find((a) => a.fingerprint === 'fp-tie')).toMatchObject({ eventCount: 2, endsAtMs: t0 + 800_000 });
  });

  it('an alert forgotten from memory that fires again counts anew, in memory and as read back', async () => {
    const clock = createFixedClock(t0 + 1_000_000);
    const alerts = createAlertService({ store, batcher, clock, logger, resolveTimeoutMs: 300_000, keepResolvedMs: 60_000 });
    const send = (status: 'firing' | 'resolved') => alerts.receive([{ ...event(clock.nowMs(), { summary: 'again' }), fingerprint: 'fp-again', status }]);
    await send('firing');
    clock.advance(1_000);
    await send('firing');
    clock.advance(1_000);
    await send('resolved');
    expect(alerts.get('fp-again')).toMatchObject({ status: 'resolved', eventCount: 3 });
    // Resolved for longer than keepResolvedMs: the sweep forgets it.
    clock.advance(120_000);
    await alerts.expireLeases();
    expect(alerts.get('fp-again')).toBeUndefined();
    await send('firing');
    const expected = { status: 'firing', eventCount: 1, firstSeenAtMs: clock.nowMs() };
    expect(alerts.get('fp-again')).toMatchObject(expected);
    await batcher.whenInserted();
    expect((await listAlerts(store, { status: 'firing', limit: 1000, offset: 0 })).alerts.find((a) => a.fingerprint === 'fp-again')).toMatchObject(expected);
    expect((await loadRecentAlerts(store, t0)).find((a) => a.fingerprint === 'fp-again')).toMatchObject(expected);
  });

  it('every column of an event row reads back as sent (RowBinary journal)', async () => {
    const clock = createFixedClock(t0 + 2_000_000);
    const alerts = createAlertService({ store, batcher, clock, logger, resolveTimeoutMs: 300_000, keepResolvedMs: 60_000 });
    const sent: AlertEvent = {
      source: 'pagerduty',
      fingerprint: 'fp-columns-ü',
      labels: { alertname: 'Überlast', 'quoted "key"': 'back\\slash\nnewline', long: 'x'.repeat(300) },
      annotations: { summary: '日本語', empty: '' },
      status: 'firing',
      severity: 'critical',
      startsAtMs: t0 + 1_999_999,
      endsAtMs: null,
      generatorUrl: 'http://prometheus:9090/graph?g0.expr=up%3D%3D0',
      groupKey: '{}:{alertname="Überlast"}',
      receivedAtMs: t0 + 2_000_000,
    };
    await alerts.receive([sent, { ...sent, endsAtMs: t0 + 2_600_000, receivedAtMs: t0 + 2_000_001 }]);
    await batcher.whenInserted();
    const rows = await store.query<Record<string, unknown>>(
      'columns',
      `SELECT toUnixTimestamp64Milli(received_at) AS received_ms, fingerprint, source, status, severity, labels, annotations,
         toUnixTimestamp64Milli(starts_at) AS starts_ms, toUnixTimestamp64Milli(ends_at) AS ends_ms, generator_url, group_key,
         toUnixTimestamp64Milli(first_seen_at) AS first_seen_ms
       FROM alert_events_v1 WHERE fingerprint = 'fp-columns-ü' ORDER BY received_at`,
    );
    const expected = {
      fingerprint: sent.fingerprint,
      source: 'pagerduty',
      status: 'firing',
      severity: 'critical',
      labels: sent.labels,
      annotations: sent.annotations,
      starts_ms: t0 + 1_999_999,
      generator_url: sent.generatorUrl,
      group_key: sent.groupKey,
      first_seen_ms: t0 + 2_000_000,
    };
    expect(rows.map((r) => ({ ...r, received_ms: Number(r.received_ms), starts_ms: Number(r.starts_ms), first_seen_ms: Number(r.first_seen_ms), ends_ms: r.ends_ms === null ? null : Number(r.ends_ms) }))).toEqual([
      { ...expected, received_ms: t0 + 2_000_000, ends_ms: null },
      { ...expected, received_ms: t0 + 2_000_001, ends_ms: t0 + 2_600_000 },
    ]);
  });
});
