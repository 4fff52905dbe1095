import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import type { AlertEvent } from '../../src/incidents/alert.js';
import type { AlertState } from '../../src/incidents/alert-state.js';
import { createAlertService } from '../../src/incidents/alert.service.js';
import { createIncidentService } from '../../src/incidents/incident.service.js';
import type { Delivery, Notice, Notifier } from '../../src/incidents/notification.service.js';
import { ddlContextOf } from '../../src/main.js';
import { createFixedClock } from '../../src/shared/clock.js';
import { AppError } from '../../src/shared/errors.js';
import { ALERT_STATE_LAYOUT, CURRENT_ALERTS, writeAlertState } from '../../src/storage/alerts.queries.js';
import { INCIDENT_ALERT_LAYOUT, writeIncidentAlert } from '../../src/storage/incidents.queries.js';
import { migrate } from '../../src/storage/migrate.js';
import { createRowBatcher, type RowBatcher } from '../../src/storage/row-batcher.js';
import { RowBinaryWriter } from '../../src/storage/row-binary.js';
import { createStore } from '../../src/storage/store.js';
import { makeDataDir } from '../helpers/vigil.js';

// The real engine and the real batcher; only the batcher's door is wrapped, to make stores fail on demand.
const dataDir = makeDataDir('vigil-store-failure-');
const config = { ...defaultConfig, storage: { ...defaultConfig.storage, dataDir } };
const store = createStore(config.storage);
const logger = pino({ level: 'silent' });
// An hour of yesterday (UTC): event rows dated on a fixed day would fall out of the alert
// event retention (a TTL) as the calendar moves on.
const t0 = Math.floor((Date.now() - 86_400_000) / 3_600_000) * 3_600_000;

/** A batcher that passes through, except for the inserts told to fail. */
function createFlakyBatcher(inner: RowBatcher) {
  let failAll = false;
  let failNext = 0;
  let failTables = new Set<string>();
  /** One call fails as a whole, as the real batcher's do (all of its tables or none). */
  const injected = (tables: string[]) =>
    failAll || tables.some((t) => failTables.has(t)) || (failNext > 0 && failNext--)
      ? Promise.reject(new AppError('STORAGE_QUERY_FAILED', `injected failure inserting into ${tables.join(', ')}`, { retryable: true }))
      : null;
  const batcher: RowBatcher & { failAll(on: boolean): void; failNext(calls: number): void; failTables(tables: string[]): void } = {
    insert: (table, rows) => injected([table]) ?? inner.insert(table, rows),
    insertAll: (parts) => injected(parts.map((p) => p.table)) ?? inner.insertAll(parts),
    close: () => inner.close(),
    whenInserted: () => inner.whenInserted(),
    get queuedRows() {
      return inner.queuedRows;
    },
    replay: () => inner.replay(),
    failAll: (on) => (failAll = on),
    failNext: (calls) => (failNext = calls),
    failTables: (tables) => (failTables = new Set(tables)),
  };
  return batcher;
}

let batcher: ReturnType<typeof createFlakyBatcher>;
beforeAll(async () => {
  await migrate(store, ddlContextOf(config));
  batcher = createFlakyBatcher(createRowBatcher({ store, journalDir: join(dataDir, 'journal'), fsync: false, logger }));
});
afterAll(async () => {
  await batcher.close();
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function event(fingerprint: string, nowMs: number, overrides: Partial<AlertEvent> = {}): AlertEvent {
  return {
    source: 'vigil',
    fingerprint,
    labels: { alertname: 'DiskFull', instance: fingerprint },
    annotations: {},
    status: 'firing',
    severity: 'major',
    startsAtMs: nowMs,
    endsAtMs: null,
    receivedAtMs: nowMs,
    ...overrides,
  };
}

async function stored(fingerprint: string): Promise<{ events: number; eventCount: number | null; status: string | null }> {
  await batcher.whenInserted();
  const [events] = await store.query<{ n: string }>('t', 'SELECT count() AS n FROM alert_events_v1 WHERE fingerprint = {fp:String}', { fp: fingerprint });
  const [state] = await store.query<{ event_count: string; status: string }>('t', `SELECT event_count, status FROM ${CURRENT_ALERTS} WHERE fingerprint = {fp:String}`, { fp: fingerprint });
  return { events: Number(events?.n ?? 0), eventCount: state ? Number(state.event_count) : null, status: state?.status ?? null };
}

describe('alert intake when the store fails', () => {
  it('a failed store leaves no trace in memory: the retry counts the event once', async () => {
    const clock = createFixedClock(t0);
    const alerts = createAlertService({ store, batcher, clock, logger, resolveTimeoutMs: 300_000, keepResolvedMs: 3_600_000 });
    batcher.failAll(true);
    await expect(alerts.receive([event('fp-a', clock.nowMs())])).rejects.toMatchObject({ retryable: true });
    batcher.failAll(false);
    expect(alerts.get('fp-a')).toBeUndefined();
    // The sender retries the same event: it is new, and counted once.
    expect(await alerts.receive([event('fp-a', clock.nowMs())])).toEqual({ alerts: 1, new: 1 });
    expect(alerts.get('fp-a')?.eventCount).toBe(1);
    expect(await stored('fp-a')).toEqual({ events: 1, eventCount: 1, status: 'firing' });
  });

  it('when the write of one of its tables fails, memory keeps the last stored state and the count matches the stored events', async () => {
    const clock = createFixedClock(t0);
    const alerts = createAlertService({ store, batcher, clock, logger, resolveTimeoutMs: 300_000, keepResolvedMs: 3_600_000 });
    await alerts.receive([event('fp-b', clock.nowMs())]);
    batcher.failTables(['alert_events_v1']); // the event row cannot go in, so neither does the state row
    await expect(alerts.receive([event('fp-b', clock.nowMs(), { severity: 'critical' })])).rejects.toBeInstanceOf(AppError);
    batcher.failTables([]);
    expect(alerts.get('fp-b')).toMatchObject({ eventCount: 1, severity: 'major' });
    await alerts.receive([event('fp-b', clock.nowMs(), { severity: 'critical' })]);
    expect(alerts.get('fp-b')).toMatchObject({ eventCount: 2, severity: 'critical' });
    expect(await stored('fp-b')).toEqual({ events: 2, eventCount: 2, status: 'firing' });
  });

  it('a change of the same alert arriving while a failing one is in flight builds on stored state only', async () => {
    const clock = createFixedClock(t0);
    const alerts = createAlertService({ store, batcher, clock, logger, resolveTimeoutMs: 300_000, keepResolvedMs: 3_600_000 });
    await alerts.receive([event('fp-c', clock.nowMs())]);
    batcher.failNext(1); // the first request below (its two tables go in one call)
    const first = alerts.receive([event('fp-c', clock.nowMs())]);
    const second = alerts.receive([event('fp-c', clock.nowMs())]);
    await expect(first).rejects.toBeInstanceOf(AppError);
    await expect(second).resolves.toEqual({ alerts: 1, new: 0 });
    expect(alerts.get('fp-c')?.eventCount).toBe(2);
    expect(await stored('fp-c')).toEqual({ events: 2, eventCount: 2, status: 'firing' });
  });

  it('a new alert whose first store fails while a second send waits: the second creates it; twice in one body is two events', async () => {
    const clock = createFixedClock(t0);
    const alerts = createAlertService({ store, batcher, clock, logger, resolveTimeoutMs: 300_000, keepResolvedMs: 3_600_000 });
    batcher.failNext(1);
    const first = alerts.receive([event('fp-d', clock.nowMs())]);
    const second = alerts.receive([event('fp-d', clock.nowMs()), event('fp-d', clock.nowMs() + 1)]);
    await expect(first).rejects.toBeInstanceOf(AppError);
    await expect(second).resolves.toEqual({ alerts: 1, new: 1 });
    expect(alerts.get('fp-d')).toMatchObject({ eventCount: 2, lastSeenAtMs: t0 + 1 });
    expect(alerts.active().filter((a) => a.fingerprint === 'fp-d')).toHaveLength(1);
    expect(await stored('fp-d')).toEqual({ events: 2, eventCount: 2, status: 'firing' });
    // A new alert that is never stored leaves nothing held.
    batcher.failAll(true);
    await expect(alerts.receive([event('fp-e', clock.nowMs())])).rejects.toBeInstanceOf(AppError);
    batcher.failAll(false);
    expect(alerts.get('fp-e')).toBeUndefined();
    expect(alerts.active().some((a) => a.fingerprint === 'fp-e')).toBe(false);
    expect(await alerts.expireLeases()).toBe(0);
  });

  it('an acknowledge waiting on a new alert whose first store fails makes no alert of it', async () => {
    const clock = createFixedClock(t0);
    const alerts = createAlertService({ store, batcher, clock, logger, resolveTimeoutMs: 300_000, keepResolvedMs: 3_600_000 });
    batcher.failNext(1);
    const trigger = alerts.receive([event('pd-f', clock.nowMs(), { source: 'pagerduty' })]);
    // Sent while the trigger's store is in flight: the alert is held then, but not stored yet.
    const acknowledge = alerts.receive([event('pd-f', clock.nowMs() + 1, { source: 'pagerduty', acknowledged: true, bare: true })]);
    await expect(trigger).rejects.toBeInstanceOf(AppError);
    await expect(acknowledge).resolves.toEqual({ alerts: 0, new: 0 });
    expect(alerts.get('pd-f')).toBeUndefined();
    expect(await stored('pd-f')).toEqual({ events: 0, eventCount: null, status: null });
  });
});

describe('lease expiry when the store or the core fails', () => {
  it('retries a lease-expiry resolution on the next sweep when its store failed', async () => {
    const clock = createFixedClock(t0);
    const told: AlertState[] = [];
    const alerts = createAlertService({
      store, batcher, clock, logger, resolveTimeoutMs: 300_000, keepResolvedMs: 3_600_000,
      onAlertsChanged: async (states) => void told.push(...states),
    });
    await alerts.receive([event('fp-d', clock.nowMs(), { endsAtMs: t0 + 240_000 })]);
    clock.set(t0 + 250_000);
    batcher.failAll(true);
    await expect(alerts.expireLeases()).rejects.toBeInstanceOf(AppError);
    batcher.failAll(false);
    expect(alerts.get('fp-d')?.status).toBe('firing');
    expect(await stored('fp-d')).toMatchObject({ status: 'firing' });
    // The next sweep: resolved at the lease's end, stored, and the core told.
    expect(await alerts.expireLeases()).toBe(1);
    expect(alerts.get('fp-d')).toMatchObject({ status: 'resolved', resolvedAtMs: t0 + 240_000 });
    expect(await stored('fp-d')).toMatchObject({ status: 'resolved' });
    expect(told.filter((s) => s.fingerprint === 'fp-d').map((s) => s.status)).toEqual(['firing', 'resolved']);
  });

  it('tells the core again on the next sweep when it failed to take a stored expiry', async () => {
    const clock = createFixedClock(t0);
    const told: string[] = [];
    let coreDown = false;
    const alerts = createAlertService({
      store, batcher, clock, logger, resolveTimeoutMs: 300_000, keepResolvedMs: 3_600_000,
      onAlertsChanged: async (states) => {
        if (coreDown) throw new AppError('STORAGE_QUERY_FAILED', 'incident store down', { retryable: true });
        told.push(...states.map((s) => `${s.fingerprint}:${s.status}`));
      },
    });
    await alerts.receive([event('fp-e', clock.nowMs())]);
    clock.set(t0 + 300_000);
    coreDown = true;
    await expect(alerts.expireLeases()).rejects.toBeInstanceOf(AppError);
    coreDown = false;
    expect(alerts.get('fp-e')?.status).toBe('resolved');
    expect(await alerts.expireLeases()).toBe(0);
    expect(told).toEqual(['fp-e:firing', 'fp-e:resolved']);
    // Told once: nothing left to retry.
    await alerts.expireLeases();
    expect(told).toEqual(['fp-e:firing', 'fp-e:resolved']);
  });
});

describe('incident writes when the store fails', () => {
  it('the sweep stores a failed change later, with its notification deliveries, and starts them only once stored', async () => {
    const clock = createFixedClock(t0);
    const enqueued: Delivery[] = [];
    const notifier: Notifier = {
      plan: (notice: Notice) => [
        { id: `d-${notice.kind}-${notice.incident.id}`, createdAtMs: clock.nowMs(), updatedAtMs: clock.nowMs(), route: 'ops', incidentId: notice.incident.id, kind: notice.kind, body: '{}', state: 'pending', attempts: 0 },
      ],
      enqueue: (deliveries) => void enqueued.push(...deliveries),
    };
    const firing: AlertState = {
      fingerprint: 'fp-f', source: 'vigil', status: 'firing', severity: 'critical', labels: { alertname: 'Outage' }, annotations: {},
      startsAtMs: t0, endsAtMs: null, generatorUrl: '', firstSeenAtMs: t0, lastSeenAtMs: t0, resolvedAtMs: null, eventCount: 1,
    };
    const incidents = createIncidentService({
      store, batcher, clock, logger, notifier,
      rule: { name: 'by-alertname', groupBy: ['alertname'], windowMs: 300_000, minFiringAlerts: 1 },
      autoResolveHoldMs: 300_000,
      alertState: (fp) => (fp === firing.fingerprint ? firing : undefined),
    });
    batcher.failAll(true);
    await expect(incidents.onAlertsChanged([firing])).rejects.toBeInstanceOf(AppError);
    expect(enqueued).toEqual([]);
    await expect(incidents.sweep()).rejects.toBeInstanceOf(AppError); // still down: kept for the next sweep
    batcher.failAll(false);
    await incidents.sweep();
    await batcher.whenInserted();
    const [incident] = (await incidents.list({ status: 'open', limit: 10, offset: 0 })).incidents;
    expect(incident).toMatchObject({ title: 'Outage (alertname=Outage)', status: 'new', severity: 'critical', alertCount: 1 });
    expect((await incidents.get(incident!.id)).timeline.map((e) => e.kind)).toEqual(['created', 'alert_joined', 'priority_changed']);
    expect(enqueued.map((d) => d.id)).toEqual([`d-created-${incident!.id}`]);
    const [delivery] = await store.query<{ state: string }>('t', 'SELECT state FROM notification_deliveries_v1 FINAL WHERE incident_id = {id:String}', { id: incident!.id });
    expect(delivery?.state).toBe('pending');
    await incidents.close();

    // A restart where the alert service no longer holds the member: its stored severity counts.
    // Rows as the services journal them (a table is journaled in one form).
    const rows = new RowBinaryWriter();
    writeAlertState(rows, firing, 1);
    await batcher.insertAll([{ table: 'alerts_v1', binary: rows.take(), rowCount: 1, layout: ALERT_STATE_LAYOUT }]);
    await batcher.whenInserted();
    // Each start after a stop: the alert service holds no member any more.
    const startAgain = () =>
      createIncidentService({
        store, batcher, clock, logger,
        rule: { name: 'by-alertname', groupBy: ['alertname'], windowMs: 300_000, minFiringAlerts: 1 },
        autoResolveHoldMs: 300_000,
        alertState: () => undefined,
      });
    const restarted = startAgain();
    await restarted.start();
    expect((await restarted.get(incident!.id)).incident).toMatchObject({ severity: 'critical', priority: 'P3' });
    await restarted.close();

    // A crash after a member row reached the journal but before its incident's row did (two
    // files, one commit): at start the count follows the members, and is stored.
    writeIncidentAlert(rows, incident!.id, 'fp-late', t0 + 1_000);
    await batcher.insertAll([{ table: 'incident_alerts_v1', binary: rows.take(), rowCount: 1, layout: INCIDENT_ALERT_LAYOUT }]);
    await batcher.whenInserted();
    const repaired = startAgain();
    await repaired.start();
    await batcher.whenInserted();
    expect((await repaired.get(incident!.id)).incident.alertCount).toBe(2);
    const [row] = await store.query<{ alert_count: number }>('t', 'SELECT alert_count FROM incidents_v1 FINAL WHERE id = {id:String}', { id: incident!.id });
    expect(Number(row?.alert_count)).toBe(2);
    await repaired.close();
  });

  /** An incident core over the flaky batcher, with one incident opened for one firing alert. */
  async function coreWithOneIncident(fingerprint: string, source: AlertState['source'], alertname: string, atMs: number) {
    const firing: AlertState = {
      fingerprint, source, status: 'firing', severity: 'critical', labels: { alertname }, annotations: {},
      startsAtMs: t0, endsAtMs: null, generatorUrl: '', firstSeenAtMs: t0, lastSeenAtMs: t0, resolvedAtMs: null, eventCount: 1,
    };
    const incidents = createIncidentService({
      store, batcher, clock: createFixedClock(atMs), logger,
      rule: { name: 'by-alertname', groupBy: ['alertname'], windowMs: 300_000, minFiringAlerts: 1 },
      autoResolveHoldMs: 300_000,
      alertState: (fp) => (fp === firing.fingerprint ? firing : undefined),
    });
    await incidents.onAlertsChanged([firing]);
    const id = (await incidents.list({ status: 'open', limit: 10, offset: 0 })).incidents.find((i) => i.title.startsWith(alertname))!.id;
    return { incidents, id, firing };
  }

  it("a person's comment, assignment or action whose store failed is stored once when the client retries", async () => {
    const { incidents, id } = await coreWithOneIncident('fp-retry', 'vigil', 'RetryCase', t0 + 10_000);
    // Each first attempt fails to store and answers a retryable error; the retry succeeds.
    for (const change of [
      () => incidents.comment(id, 'rebooting db-1', 'bob'),
      () => incidents.assign(id, 'bob', 'alice'),
      () => incidents.act(id, 'acknowledge', 'bob'),
    ]) {
      batcher.failNext(1);
      await expect(change()).rejects.toBeInstanceOf(AppError);
      await change();
    }
    await incidents.sweep();
    await batcher.whenInserted();
    const timeline = (await incidents.get(id)).timeline;
    expect(timeline.filter((e) => e.kind === 'comment')).toHaveLength(1);
    expect(timeline.filter((e) => e.kind === 'assigned')).toHaveLength(1);
    expect(timeline.filter((e) => e.kind === 'transition').map((e) => e.detail.to)).toEqual(['acknowledged']);
    expect((await incidents.get(id)).incident).toMatchObject({ status: 'acknowledged', assignee: 'bob' });
    await incidents.close();
  });

  it("a sender's acknowledge whose store failed is stored by the sender's retry, once", async () => {
    const { incidents, id, firing } = await coreWithOneIncident('pd-sender-ack', 'pagerduty', 'SenderAck', t0 + 20_000);
    batcher.failNext(1);
    await expect(incidents.acknowledgeAlerts([firing.fingerprint], 'Zabbix')).rejects.toBeInstanceOf(AppError);
    // No sweep runs here: the retry itself stores the waiting change.
    await incidents.acknowledgeAlerts([firing.fingerprint], 'Zabbix');
    await batcher.whenInserted();
    const timeline = (await incidents.get(id)).timeline;
    expect(timeline.filter((e) => e.kind === 'transition').map((e) => [e.actor, e.detail.to])).toEqual([['Zabbix', 'acknowledged']]);
    await incidents.close();
  });
});
