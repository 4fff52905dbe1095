import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import type { AlertEvent } from '../../src/incidents/alert.js';
import { createAlertService } from '../../src/incidents/alert.service.js';
import { ddlContextOf } from '../../src/main.js';
import { createFixedClock } from '../../src/shared/clock.js';
import { CURRENT_ALERTS, listAlertEvents, listAlerts, loadRecentAlerts } from '../../src/storage/alerts.queries.js';
import { migrate } from '../../src/storage/migrate.js';
import { createRowBatcher, type RowBatcher } from '../../src/storage/row-batcher.js';
import { AppError } from '../../src/shared/errors.js';
import { createStore } from '../../src/storage/store.js';
import { makeDataDir } from '../helpers/vigil.js';

// Re-sends share their alert's map objects, and an event row leaves out the maps of the event
// before it (migration 016): what is read back per event must still be that event's own
// labels and annotations.
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

/**
 * The events of a fingerprint as listAlertEvents restores them, oldest first. Read in pages
 * of one, two and three events too, which must give the same: a row's previous event is then
 * often on another page, and what it repeats is looked up.
 */
async function eventsOf(fingerprint: string) {
  const all = (await listAlertEvents(store, fingerprint, { limit: 1000, offset: 0 })).events;
  for (const limit of [1, 2, 3]) {
    const paged = [];
    for (let offset = 0; offset < all.length; offset += limit) paged.push(...(await listAlertEvents(store, fingerprint, { limit, offset })).events);
    expect(paged).toEqual(all);
  }
  return all.reverse();
}

/** The `seq` and `repeats` columns of a fingerprint's rows as stored, oldest first. */
async function rawRows(fingerprint: string) {
  const rows = await store.query<{ seq: string | number; repeats: number; labels: Record<string, string>; annotations: Record<string, string> }>(
    'raw events',
    'SELECT seq, repeats, labels, annotations FROM alert_events_v1 WHERE fingerprint = {fingerprint:String} ORDER BY first_seen_at, seq',
    { fingerprint },
  );
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

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
  it('each event reads back with its own annotations and the labels; the state row the latest', async () => {
    const clock = createFixedClock(t0);
    const alerts = createAlertService({ store, batcher, clock, logger, resolveTimeoutMs: 300_000, keepResolvedMs: 3_600_000 });
    const sent: Record<string, string>[] = [{ summary: 'a' }, { summary: 'a' }, { summary: 'b', runbook: 'r' }, { summary: 'a' }, {}, { summary: 'a' }];
    await alerts.receive([event(t0 + 1, sent[0]!)]);
    await alerts.receive([event(t0 + 2, sent[1]!)]);
    await alerts.receive([event(t0 + 3, sent[2]!), event(t0 + 4, sent[3]!)]);
    await alerts.receive([event(t0 + 5, sent[4]!)]);
    await alerts.receive([event(t0 + 6, sent[5]!)]);
    await batcher.whenInserted();
    const events = await eventsOf('fp-stored');
    expect(events.map((e) => e.annotations)).toEqual(sent);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const e of events) expect(e.labels).toEqual({ alertname: 'DiskFull', instance: 'db-1:9100' });
    // As stored: the first row whole, then each map only where it differs from the row before.
    expect((await rawRows('fp-stored')).map((r) => r.repeats)).toEqual([0, 3, 1, 1, 1, 1]);
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
    const expected = {
      fingerprint: sent.fingerprint,
      source: 'pagerduty',
      status: 'firing',
      severity: 'critical',
      labels: sent.labels,
      annotations: sent.annotations,
      startsAtMs: t0 + 1_999_999,
      generatorUrl: sent.generatorUrl,
      groupKey: sent.groupKey,
      firstSeenAtMs: t0 + 2_000_000,
    };
    const listed = await listAlertEvents(store, 'fp-columns-ü', { limit: 10, offset: 0 });
    expect(listed).toEqual({
      total: 2,
      events: [
        { ...expected, receivedAtMs: t0 + 2_000_001, seq: 2, endsAtMs: t0 + 2_600_000 },
        { ...expected, receivedAtMs: t0 + 2_000_000, seq: 1, endsAtMs: null },
      ],
    });
    // The second, in the same body as the first, repeats both maps of it.
    expect((await rawRows('fp-columns-ü')).map((r) => [r.repeats, r.labels, r.annotations])).toEqual([
      [0, sent.labels, sent.annotations],
      [3, {}, {}],
    ]);
  });
});

/** A batcher that fails the next call when told to, as the real one fails (the whole call). */
function failingOnDemand(inner: RowBatcher) {
  let failNext = false;
  const batcher: RowBatcher & { failNext(): void } = {
    ...inner,
    insert: (table, rows) => inner.insert(table, rows),
    insertAll: (parts) => {
      if (!failNext) return inner.insertAll(parts);
      failNext = false;
      return Promise.reject(new AppError('STORAGE_QUERY_FAILED', 'injected failure', { retryable: true }));
    },
    close: () => inner.close(),
    whenInserted: (tables) => inner.whenInserted(tables),
    replay: () => inner.replay(),
    failNext: () => (failNext = true),
  };
  return batcher;
}

describe('event rows that repeat the event before them', () => {
  it('a restarted service stores its first event of an alert whole, then repeats again; seq goes on', async () => {
    const clock = createFixedClock(t0 + 3_000_000);
    const options = { store, batcher, clock, logger, resolveTimeoutMs: 300_000, keepResolvedMs: 3_600_000 };
    const first = createAlertService(options);
    const send = (service: typeof first) => service.receive([{ ...event(clock.nowMs(), { summary: 'restart' }), fingerprint: 'fp-restart' }]);
    await send(first);
    clock.advance(1_000);
    await send(first);
    await batcher.whenInserted();
    // A new process: the state comes from storage, and the rows before are not its own.
    // (Its close() must not close the batcher the other tests share.)
    const restarted = createAlertService({ ...options, batcher: { ...batcher, close: async () => undefined } });
    await restarted.start();
    expect(restarted.get('fp-restart')).toMatchObject({ eventCount: 2 });
    clock.advance(1_000);
    await send(restarted);
    clock.advance(1_000);
    await send(restarted);
    await restarted.close();
    await batcher.whenInserted();
    expect((await rawRows('fp-restart')).map((r) => [r.seq, r.repeats])).toEqual([
      [1, 0],
      [2, 3],
      [3, 0],
      [4, 3],
    ]);
    const events = await eventsOf('fp-restart');
    expect(events.map((e) => [e.seq, e.labels, e.annotations])).toEqual(
      [1, 2, 3, 4].map((seq) => [seq, { alertname: 'DiskFull', instance: 'db-1:9100' }, { summary: 'restart' }]),
    );
  });

  it('expires no lease until startLeaseExpiry(): the core it tells of the resolve may not be rebuilt yet', async () => {
    const clock = createFixedClock(t0 + 3_500_000);
    const options = { store, batcher, clock, logger, resolveTimeoutMs: 300_000, keepResolvedMs: 3_600_000 };
    const first = createAlertService(options);
    await first.receive([{ ...event(clock.nowMs(), {}), fingerprint: 'fp-lease-restart', endsAtMs: clock.nowMs() + 1_000 }]);
    await batcher.whenInserted();
    const told: string[] = [];
    const restarted = createAlertService({
      ...options,
      batcher: { ...batcher, close: async () => undefined },
      onAlertsChanged: async (states) => void told.push(...states.map((s) => `${s.fingerprint}:${s.status}`)),
    });
    await restarted.start();
    clock.advance(60_000);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(restarted.get('fp-lease-restart')?.status).toBe('firing');
    restarted.startLeaseExpiry();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(restarted.get('fp-lease-restart')?.status).toBe('resolved');
    expect(told).toContain('fp-lease-restart:resolved');
    await restarted.close();
  });

  it('labels that differ from the alert\'s (a sender\'s own fingerprint) are stored whole, and so is the event after', async () => {
    const clock = createFixedClock(t0 + 4_000_000);
    const alerts = createAlertService({ store, batcher, clock, logger, resolveTimeoutMs: 300_000, keepResolvedMs: 3_600_000 });
    const labels = [{ check: 'disk', host: 'a' }, { check: 'disk', host: 'a' }, { check: 'disk', host: 'b' }, { check: 'disk', host: 'a' }, { check: 'disk', host: 'a' }];
    for (const l of labels) {
      await alerts.receive([{ ...event(clock.nowMs(), {}), fingerprint: 'fp-sender-key', labels: l }]);
      clock.advance(1_000);
    }
    await batcher.whenInserted();
    expect((await rawRows('fp-sender-key')).map((r) => r.repeats)).toEqual([0, 3, 2, 2, 3]);
    expect((await eventsOf('fp-sender-key')).map((e) => e.labels)).toEqual(labels);
  });

  it('the first event of a UTC day is stored whole: events expire by whole days, what a row repeats as long', async () => {
    const midnight = Math.floor(t0 / 86_400_000) * 86_400_000 + 86_400_000;
    const clock = createFixedClock(midnight - 2);
    const alerts = createAlertService({ store, batcher, clock, logger, resolveTimeoutMs: 300_000, keepResolvedMs: 3_600_000 });
    for (const at of [midnight - 2, midnight - 1, midnight, midnight + 1]) {
      await alerts.receive([{ ...event(at, { summary: 'day' }), fingerprint: 'fp-midnight' }]);
    }
    await batcher.whenInserted();
    expect((await rawRows('fp-midnight')).map((r) => r.repeats)).toEqual([0, 3, 0, 3]);
    expect((await eventsOf('fp-midnight')).map((e) => e.annotations)).toEqual([1, 2, 3, 4].map(() => ({ summary: 'day' })));
  });

  it('an event whose store failed is no event to repeat: the retry repeats the last one stored', async () => {
    const flaky = failingOnDemand(batcher);
    const clock = createFixedClock(t0 + 5_000_000);
    const alerts = createAlertService({ store, batcher: flaky, clock, logger, resolveTimeoutMs: 300_000, keepResolvedMs: 3_600_000 });
    const send = (annotations: Record<string, string>) => alerts.receive([{ ...event(clock.nowMs(), annotations), fingerprint: 'fp-failed' }]);
    await send({ summary: 'one' });
    clock.advance(1_000);
    flaky.failNext();
    await expect(send({ summary: 'two' })).rejects.toThrow('injected failure');
    clock.advance(1_000);
    await send({ summary: 'one' });
    clock.advance(1_000);
    await send({ summary: 'two' });
    await batcher.whenInserted();
    expect((await rawRows('fp-failed')).map((r) => [r.seq, r.repeats])).toEqual([
      [1, 0],
      [2, 3],
      [3, 1],
    ]);
    expect((await eventsOf('fp-failed')).map((e) => e.annotations)).toEqual([{ summary: 'one' }, { summary: 'one' }, { summary: 'two' }]);
  });
});
