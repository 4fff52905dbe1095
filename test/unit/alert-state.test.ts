import { describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../src/incidents/alert.js';
import { applyAlertEvent, expireAlert, leaseExpiresAtMs, needsStateRow, sameStringMap } from '../../src/incidents/alert-state.js';

const t0 = Date.parse('2026-11-23T10:00:00Z');
function event(overrides: Partial<AlertEvent>): AlertEvent {
  return {
    source: 'alertmanager',
    fingerprint: 'fp1',
    labels: { alertname: 'DiskFull', instance: 'db-1' },
    annotations: { summary: 'first' },
    status: 'firing',
    severity: 'major',
    startsAtMs: t0,
    endsAtMs: null,
    receivedAtMs: t0,
    ...overrides,
  };
}

describe('applyAlertEvent (dedup)', () => {
  it('creates an alert from its first event', () => {
    expect(applyAlertEvent(undefined, event({}))).toMatchObject({ status: 'firing', eventCount: 1, firstSeenAtMs: t0, lastSeenAtMs: t0, resolvedAtMs: null });
  });

  it('a re-send updates last-seen, counters and annotations, not identity or start', () => {
    const first = applyAlertEvent(undefined, event({}));
    const again = applyAlertEvent(first, event({ receivedAtMs: t0 + 60_000, annotations: { summary: 'second' }, startsAtMs: t0 + 5 }));
    expect(again).toMatchObject({ eventCount: 2, lastSeenAtMs: t0 + 60_000, firstSeenAtMs: t0, startsAtMs: t0, annotations: { summary: 'second' }, status: 'firing' });
  });

  it('resolves at endsAt (or arrival) and keeps the first resolve time on repeats', () => {
    const firing = applyAlertEvent(undefined, event({}));
    const resolved = applyAlertEvent(firing, event({ status: 'resolved', endsAtMs: t0 + 120_000, receivedAtMs: t0 + 130_000 }));
    expect(resolved).toMatchObject({ status: 'resolved', resolvedAtMs: t0 + 120_000 });
    const repeated = applyAlertEvent(resolved, event({ status: 'resolved', endsAtMs: t0 + 200_000, receivedAtMs: t0 + 210_000 }));
    expect(repeated).toMatchObject({ status: 'resolved', resolvedAtMs: t0 + 120_000, eventCount: 3 });
  });

  it('fires again after resolving, as a new firing period', () => {
    const resolved = applyAlertEvent(applyAlertEvent(undefined, event({})), event({ status: 'resolved', receivedAtMs: t0 + 1000 }));
    const refired = applyAlertEvent(resolved, event({ startsAtMs: t0 + 5000, receivedAtMs: t0 + 5000 }));
    expect(refired).toMatchObject({ status: 'firing', resolvedAtMs: null, startsAtMs: t0 + 5000 });
  });
});

describe('severity', () => {
  it('follows the latest firing event; a resolve notice (often without severity, read as warning) keeps it', () => {
    const critical = applyAlertEvent(undefined, event({ severity: 'critical' }));
    const downgraded = applyAlertEvent(critical, event({ severity: 'minor', receivedAtMs: t0 + 1000 }));
    expect(downgraded.severity).toBe('minor');
    const resolved = applyAlertEvent(downgraded, event({ status: 'resolved', severity: 'warning', receivedAtMs: t0 + 2000 }));
    expect(resolved).toMatchObject({ status: 'resolved', severity: 'minor' });
  });

  it('a bare event (PagerDuty acknowledge or resolve without payload) keeps the severity and annotations', () => {
    const critical = applyAlertEvent(undefined, event({ severity: 'critical', annotations: { summary: 'disk full' } }));
    const acknowledged = applyAlertEvent(critical, event({ severity: 'warning', annotations: {}, labels: {}, acknowledged: true, bare: true, receivedAtMs: t0 + 1000 }));
    expect(acknowledged).toMatchObject({ status: 'firing', severity: 'critical', annotations: { summary: 'disk full' }, labels: critical.labels });
    const resolved = applyAlertEvent(acknowledged, event({ status: 'resolved', severity: 'warning', annotations: {}, bare: true, receivedAtMs: t0 + 2000 }));
    expect(resolved).toMatchObject({ status: 'resolved', severity: 'critical', annotations: { summary: 'disk full' } });
    // An acknowledge of the resolved alert (bare or with its payload) does not fire it again.
    for (const bare of [true, false]) {
      const late = applyAlertEvent(resolved, event({ acknowledged: true, ...(bare ? { bare } : {}), receivedAtMs: t0 + 3000 }));
      expect(late).toMatchObject({ status: 'resolved', resolvedAtMs: resolved.resolvedAtMs, startsAtMs: resolved.startsAtMs, eventCount: 4 });
    }
  });
});

describe('resolve times', () => {
  it('never puts a resolve later than its arrival (a far endsAt would keep the alert in memory for good)', () => {
    const firing = applyAlertEvent(undefined, event({}));
    const farAhead = applyAlertEvent(firing, event({ status: 'resolved', endsAtMs: Date.UTC(9999, 0, 1), receivedAtMs: t0 + 5_000 }));
    expect(farAhead.resolvedAtMs).toBe(t0 + 5_000);
    const earlier = applyAlertEvent(firing, event({ status: 'resolved', endsAtMs: t0 + 1_000, receivedAtMs: t0 + 5_000 }));
    expect(earlier.resolvedAtMs).toBe(t0 + 1_000);
  });
});

describe('leases', () => {
  const timeouts = { resolveTimeoutMs: 300_000, notificationResolveTimeoutMs: 0 };

  it('uses endsAt when the sender gives one, the resolve timeout otherwise, nothing when resolved', () => {
    const withLease = applyAlertEvent(undefined, event({ source: 'prometheus', endsAtMs: t0 + 240_000 }));
    expect(leaseExpiresAtMs(withLease, timeouts)).toBe(t0 + 240_000);
    const without = applyAlertEvent(undefined, event({ source: 'prometheus' }));
    expect(leaseExpiresAtMs(without, timeouts)).toBe(t0 + 300_000);
    expect(leaseExpiresAtMs(expireAlert(without, t0 + 300_000), timeouts)).toBeNull();
    expect(expireAlert(without, t0 + 300_000)).toMatchObject({ status: 'resolved', resolvedAtMs: t0 + 300_000 });
    // Vigil's own JSON without endsAt: the resolve timeout, as Alertmanager's API does.
    expect(leaseExpiresAtMs(applyAlertEvent(undefined, event({ source: 'vigil' })), timeouts)).toBe(t0 + 300_000);
  });

  it('keeps Alertmanager-webhook and PagerDuty alerts firing until resolved, or their own timeout', () => {
    // The webhook sends a firing alert with a zero endsAt (normalised to null) and repeats
    // it only after repeat_interval (4 h by default): the 5-minute timeout would resolve it.
    for (const source of ['alertmanager', 'pagerduty'] as const) {
      const firing = applyAlertEvent(undefined, event({ source }));
      expect(leaseExpiresAtMs(firing, timeouts)).toBeNull();
      expect(leaseExpiresAtMs(firing, { ...timeouts, notificationResolveTimeoutMs: 43_200_000 })).toBe(t0 + 43_200_000);
      // An endsAt the sender did give still rules.
      expect(leaseExpiresAtMs(applyAlertEvent(undefined, event({ source, endsAtMs: t0 + 60_000 })), timeouts)).toBe(t0 + 60_000);
    }
  });
});

describe('sameStringMap', () => {
  it.each([
    [{ a: '1', b: '2' }, { b: '2', a: '1' }, true],
    [{}, {}, true],
    [{ a: '1', b: '2' }, { a: '1', c: '2' }, false],
    [{ a: '1' }, { a: '1', b: '2' }, false],
    [{ a: '1', b: '2' }, { a: '1' }, false],
    [{ a: '1' }, { a: '2' }, false],
    [{ a: '' }, {}, false],
  ])('%j and %j: %s', (a, b, same) => {
    expect(sameStringMap(a, b)).toBe(same);
    expect(sameStringMap(b, a)).toBe(same);
  });

  it('counts own keys only, __proto__ included as an ordinary key', () => {
    const inherited = Object.create({ a: '1' }) as Record<string, string>;
    expect(sameStringMap(inherited, {})).toBe(true);
    expect(sameStringMap(inherited, { a: '1' })).toBe(false);
    const parsed = JSON.parse('{"__proto__":"x"}') as Record<string, string>;
    expect(sameStringMap(parsed, JSON.parse('{"__proto__":"x"}') as Record<string, string>)).toBe(true);
    expect(sameStringMap(parsed, {})).toBe(false);
  });
});

describe('needsStateRow (what a re-send stores besides its event)', () => {
  const first = applyAlertEvent(undefined, event({ endsAtMs: t0 + 240_000 }));
  // A re-send as the service folds it: equal maps are the alert's own objects.
  const resend = (overrides: Partial<AlertEvent>) => applyAlertEvent(first, event({ labels: first.labels, annotations: first.annotations, receivedAtMs: t0 + 60_000, ...overrides }));

  it('a new alert needs one', () => {
    expect(needsStateRow(undefined, first)).toBe(true);
  });

  it('a renewed lease, a later last-seen and one more event do not (the events table has them)', () => {
    const renewed = resend({ endsAtMs: t0 + 300_000 });
    expect([renewed.lastSeenAtMs, renewed.eventCount, renewed.endsAtMs]).toEqual([t0 + 60_000, 2, t0 + 300_000]);
    expect(needsStateRow(first, renewed)).toBe(false);
    // Equal contents in other objects are no change either.
    expect(needsStateRow(first, resend({ annotations: { summary: 'first' } }))).toBe(false);
  });

  it('every other change does', () => {
    expect(needsStateRow(first, resend({ annotations: { summary: 'second' } }))).toBe(true);
    expect(needsStateRow(first, resend({ severity: 'critical' }))).toBe(true);
    expect(needsStateRow(first, resend({ status: 'resolved' }))).toBe(true);
    expect(needsStateRow(first, resend({ generatorUrl: 'http://prometheus:9090/graph' }))).toBe(true);
    const resolved = resend({ status: 'resolved' });
    expect(needsStateRow(resolved, applyAlertEvent(resolved, event({ receivedAtMs: t0 + 120_000, startsAtMs: t0 + 110_000 })))).toBe(true);
    expect(needsStateRow(first, expireAlert(first, t0 + 240_000))).toBe(true);
  });
});
