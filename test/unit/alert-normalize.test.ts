import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprintLabels } from '../../src/incidents/alert-fingerprint.js';
import type { AlertEvent, Severity } from '../../src/incidents/alert.js';
import {
  mapSeverity,
  normalizeAlertmanagerV2Alerts,
  normalizeAlertmanagerWebhook,
  normalizePagerDutyEvent,
  normalizeVigilAlerts,
  parseAlertmanagerTextAlerts,
  parseTimestampMs,
  type NormalizeResult,
} from '../../src/incidents/normalize-alerts.js';

const NOW_MS = Date.UTC(2026, 10, 22, 18, 45, 0);
const STARTS_MS = Date.UTC(2026, 10, 22, 18, 40, 23);
const HOST_DOWN_LABELS = { alertname: 'HostDown', instance: 'h1-3:9100', job: 'node', severity: 'critical' };

// The three webhook bodies Alertmanager 0.25 sent, verbatim
// (test/fixtures/alertmanager-0.25-webhook/webhook-{1,2,3}.json).
const WEBHOOK_1 = {
  "receiver": "vigil",
  "status": "firing",
  "alerts": [
    {
      "status": "firing",
      "labels": {
        "alertname": "DiskFull",
        "instance": "db-2:9100",
        "mountpoint": "/var",
        "severity": "major"
      },
      "annotations": {
        "description": "disk /var on db-2 is 96.3% full",
        "summary": "/var above 95%"
      },
      "startsAt": "2026-11-22T18:40:23Z",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "",
      "fingerprint": "20ea0a9046c59f99"
    }
  ],
  "groupLabels": {
    "alertname": "DiskFull",
    "instance": "db-2:9100"
  },
  "commonLabels": {
    "alertname": "DiskFull",
    "instance": "db-2:9100",
    "mountpoint": "/var",
    "severity": "major"
  },
  "commonAnnotations": {
    "description": "disk /var on db-2 is 96.3% full",
    "summary": "/var above 95%"
  },
  "externalURL": "http://vm:19093",
  "version": "4",
  "groupKey": "{}:{alertname=\"DiskFull\", instance=\"db-2:9100\"}",
  "truncatedAlerts": 0
};

const WEBHOOK_2 = {
  "receiver": "vigil",
  "status": "firing",
  "alerts": [
    {
      "status": "firing",
      "labels": {
        "alertname": "HostDown",
        "instance": "h1-3:9100",
        "job": "node",
        "severity": "critical"
      },
      "annotations": {
        "summary": "h1-3 is down"
      },
      "startsAt": "2026-11-22T18:40:23Z",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up+%3D%3D+0",
      "fingerprint": "40d4eb4003aa315b"
    }
  ],
  "groupLabels": {
    "alertname": "HostDown",
    "instance": "h1-3:9100"
  },
  "commonLabels": {
    "alertname": "HostDown",
    "instance": "h1-3:9100",
    "job": "node",
    "severity": "critical"
  },
  "commonAnnotations": {
    "summary": "h1-3 is down"
  },
  "externalURL": "http://vm:19093",
  "version": "4",
  "groupKey": "{}:{alertname=\"HostDown\", instance=\"h1-3:9100\"}",
  "truncatedAlerts": 0
};

const WEBHOOK_3 = {
  "receiver": "vigil",
  "status": "resolved",
  "alerts": [
    {
      "status": "resolved",
      "labels": {
        "alertname": "HostDown",
        "instance": "h1-3:9100",
        "job": "node",
        "severity": "critical"
      },
      "annotations": {
        "summary": "h1-3 is down"
      },
      "startsAt": "2026-11-22T18:40:23Z",
      "endsAt": "2026-11-22T18:40:27Z",
      "generatorURL": "",
      "fingerprint": "40d4eb4003aa315b"
    }
  ],
  "groupLabels": {
    "alertname": "HostDown",
    "instance": "h1-3:9100"
  },
  "commonLabels": {
    "alertname": "HostDown",
    "instance": "h1-3:9100",
    "job": "node",
    "severity": "critical"
  },
  "commonAnnotations": {
    "summary": "h1-3 is down"
  },
  "externalURL": "http://vm:19093",
  "version": "4",
  "groupKey": "{}:{alertname=\"HostDown\", instance=\"h1-3:9100\"}",
  "truncatedAlerts": 0
};

function alertsOf(result: NormalizeResult): AlertEvent[] {
  if (!result.ok) throw new Error(`expected ok, got: ${result.detail}`);
  return result.alerts;
}

function detailOf(result: NormalizeResult): string {
  if (result.ok) throw new Error(`expected a rejection, got ${result.alerts.length} alerts`);
  return result.detail;
}

/** Marks a patch that removes the field. */
const DELETE = Symbol('delete');

/** A deep copy with the value at `path` replaced (or removed), so each malformed case starts from a valid body. */
function patch(body: unknown, path: (string | number)[], value: unknown): unknown {
  const copy: unknown = structuredClone(body);
  let node = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] ?? '';
  if (value === DELETE) delete node[last];
  else node[last] = value;
  return copy;
}

describe('normalizeAlertmanagerWebhook', () => {
  it.each([
    { name: 'webhook-1', body: WEBHOOK_1, fingerprint: '20ea0a9046c59f99', status: 'firing', severity: 'major', endsAtMs: null, generatorUrl: undefined },
    { name: 'webhook-2', body: WEBHOOK_2, fingerprint: '40d4eb4003aa315b', status: 'firing', severity: 'critical', endsAtMs: null, generatorUrl: 'http://prometheus.example:9090/graph?g0.expr=up+%3D%3D+0' },
    { name: 'webhook-3', body: WEBHOOK_3, fingerprint: '40d4eb4003aa315b', status: 'resolved', severity: 'critical', endsAtMs: Date.UTC(2026, 10, 22, 18, 40, 27), generatorUrl: undefined },
  ])('maps the real $name body', ({ body, fingerprint, status, severity, endsAtMs, generatorUrl }) => {
    const alerts = alertsOf(normalizeAlertmanagerWebhook(body, NOW_MS));
    expect(alerts).toHaveLength(1);
    const [alert] = alerts;
    const sent = body.alerts[0];
    expect(alert).toEqual({
      source: 'alertmanager',
      fingerprint,
      labels: sent?.labels,
      annotations: sent?.annotations,
      status,
      severity,
      startsAtMs: STARTS_MS,
      endsAtMs,
      receivedAtMs: NOW_MS,
      groupKey: body.groupKey,
      ...(generatorUrl === undefined ? {} : { generatorUrl }),
    });
    expect(alert?.fingerprint).toBe(fingerprintLabels(alert?.labels ?? {}));
  });

  it('accepts fields newer Alertmanager releases add (notification_reason, routeLabels)', () => {
    const body = { ...WEBHOOK_2, notification_reason: 'first notification', routeLabels: {}, somethingFromV0_40: [1, 2] };
    expect(alertsOf(normalizeAlertmanagerWebhook(body, NOW_MS))).toHaveLength(1);
  });

  it('computes the fingerprint when a sender omits it, matching Alertmanager’s', () => {
    const body = patch(WEBHOOK_2, ['alerts', 0, 'fingerprint'], DELETE);
    expect(alertsOf(normalizeAlertmanagerWebhook(body, NOW_MS))[0]?.fingerprint).toBe('40d4eb4003aa315b');
  });

  it('accepts an empty alert list', () => {
    expect(alertsOf(normalizeAlertmanagerWebhook({ ...WEBHOOK_1, alerts: [] }, NOW_MS))).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ['null body', null, 'body: must be an object, got null'],
    ['array body', [WEBHOOK_1], 'body: must be an object, got an array'],
    ['no version', patch(WEBHOOK_1, ['version'], DELETE), 'version: is required'],
    ['other version', patch(WEBHOOK_1, ['version'], '5'), 'version: unsupported webhook version "5", expected "4"'],
    ['no alerts', patch(WEBHOOK_1, ['alerts'], DELETE), 'alerts: is required'],
    ['alerts not a list', patch(WEBHOOK_1, ['alerts'], {}), 'alerts: must be an array, got an object'],
    ['alert not an object', patch(WEBHOOK_1, ['alerts'], [1]), 'alerts[0]: must be an object, got a number'],
    ['label not a string', patch(WEBHOOK_1, ['alerts', 0, 'labels', 'instance'], 9100), 'alerts[0].labels.instance: must be a string, got a number'],
    ['odd label name', patch(WEBHOOK_1, ['alerts', 0, 'labels', 'my-label'], false), 'alerts[0].labels["my-label"]: must be a string, got a boolean'],
    ['no labels', patch(WEBHOOK_1, ['alerts', 0, 'labels'], {}), 'alerts[0].labels: must hold at least one label with a value'],
    ['annotation not a string', patch(WEBHOOK_1, ['alerts', 0, 'annotations', 'summary'], ['x']), 'alerts[0].annotations.summary: must be a string, got an array'],
    ['bad status', patch(WEBHOOK_1, ['alerts', 0, 'status'], 'pending'), 'alerts[0].status: must be one of firing, resolved, got "pending"'],
    ['no startsAt', patch(WEBHOOK_1, ['alerts', 0, 'startsAt'], DELETE), 'alerts[0].startsAt: is required'],
    ['bad startsAt', patch(WEBHOOK_1, ['alerts', 0, 'startsAt'], 'yesterday'), 'alerts[0].startsAt: must be an RFC 3339 timestamp, got "yesterday"'],
    ['bad endsAt', patch(WEBHOOK_1, ['alerts', 0, 'endsAt'], '2026-02-30T00:00:00Z'), 'alerts[0].endsAt: must be an RFC 3339 timestamp, got "2026-02-30T00:00:00Z"'],
    ['fingerprint not a string', patch(WEBHOOK_1, ['alerts', 0, 'fingerprint'], 7), 'alerts[0].fingerprint: must be a string, got a number'],
    ['groupKey not a string', patch(WEBHOOK_1, ['groupKey'], {}), 'groupKey: must be a string, got an object'],
  ])('rejects %s', (_name, body, detail) => {
    expect(detailOf(normalizeAlertmanagerWebhook(body, NOW_MS))).toBe(detail);
  });
});

describe('normalizeAlertmanagerV2Alerts', () => {
  const base = {
    labels: HOST_DOWN_LABELS,
    annotations: { summary: 'h1-3 is down' },
    startsAt: '2026-11-22T18:40:23.000Z',
    generatorURL: 'http://prometheus.example:9090/graph?g0.expr=up+%3D%3D+0',
  };

  it('keeps a firing alert whose endsAt lease lies ahead, with Alertmanager’s fingerprint', () => {
    const alerts = alertsOf(normalizeAlertmanagerV2Alerts([{ ...base, endsAt: '2026-11-22T18:49:00Z' }], NOW_MS));
    expect(alerts).toEqual([
      {
        source: 'prometheus',
        fingerprint: '40d4eb4003aa315b',
        labels: HOST_DOWN_LABELS,
        annotations: { summary: 'h1-3 is down' },
        status: 'firing',
        severity: 'critical',
        startsAtMs: STARTS_MS,
        endsAtMs: Date.UTC(2026, 10, 22, 18, 49),
        generatorUrl: base.generatorURL,
        receivedAtMs: NOW_MS,
      },
    ]);
  });

  it.each([
    ['in the past', '2026-11-22T18:44:00Z', 'resolved', Date.UTC(2026, 10, 22, 18, 44)],
    ['exactly now', '2026-11-22T18:45:00Z', 'resolved', NOW_MS],
    ['absent', undefined, 'firing', null],
    ['Go’s zero time', '0001-01-01T00:00:00Z', 'firing', null],
  ])('derives status from endsAt %s', (_name, endsAt, status, endsAtMs) => {
    const [alert] = alertsOf(normalizeAlertmanagerV2Alerts([{ ...base, endsAt }], NOW_MS));
    expect(alert?.status).toBe(status);
    expect(alert?.endsAtMs).toBe(endsAtMs);
  });

  it("reads Go's zero startsAt as unset, and refuses an endsAt before startsAt, as Alertmanager does", () => {
    const [zero] = alertsOf(normalizeAlertmanagerV2Alerts([{ ...base, startsAt: '0001-01-01T00:00:00Z' }], NOW_MS));
    expect(zero?.startsAtMs).toBe(NOW_MS);
    expect(normalizeAlertmanagerV2Alerts([{ ...base, endsAt: '2026-11-22T18:40:22.000Z' }], NOW_MS)).toEqual({
      ok: false,
      detail: 'alerts[0].endsAt: must not be before startsAt',
    });
    expect(normalizeVigilAlerts({ labels: { a: 'b' }, status: 'resolved', startsAt: '2026-11-22T18:40:23Z', endsAt: '2026-11-22T18:00:00Z' }, NOW_MS)).toMatchObject({ ok: false, detail: 'endsAt: must not be before startsAt' });
  });

  it("refuses a sender's fingerprint longer than PagerDuty's 255-character dedup_key (it is an id in paths)", () => {
    const alert = (fingerprint: string) => ({ labels: { a: 'b' }, status: 'firing', startsAt: '2026-11-22T18:40:23Z', fingerprint });
    expect(alertsOf(normalizeVigilAlerts(alert('f'.repeat(255)), NOW_MS))[0]?.fingerprint).toHaveLength(255);
    expect(normalizeVigilAlerts(alert('f'.repeat(256)), NOW_MS)).toMatchObject({ ok: false, detail: 'fingerprint: must be at most 255 characters' });
  });

  it('fills a missing startsAt from endsAt, else the arrival time (as Alertmanager does)', () => {
    const alerts = alertsOf(
      normalizeAlertmanagerV2Alerts([{ labels: { alertname: 'A' } }, { labels: { alertname: 'B' }, endsAt: '2026-11-22T18:44:00Z' }], NOW_MS),
    );
    expect(alerts.map((a) => [a.startsAtMs, a.status, a.annotations, a.severity])).toEqual([
      [NOW_MS, 'firing', {}, 'warning'],
      [Date.UTC(2026, 10, 22, 18, 44), 'resolved', {}, 'warning'],
    ]);
  });

  it('gives the same identity as the webhook for the same alert', () => {
    const [viaApi] = alertsOf(normalizeAlertmanagerV2Alerts([base], NOW_MS));
    const [viaWebhook] = alertsOf(normalizeAlertmanagerWebhook(WEBHOOK_2, NOW_MS));
    expect(viaApi?.fingerprint).toBe(viaWebhook?.fingerprint);
  });

  it('tolerates unknown fields and accepts an empty list', () => {
    expect(alertsOf(normalizeAlertmanagerV2Alerts([{ ...base, status: 'whatever' }], NOW_MS))).toHaveLength(1);
    expect(alertsOf(normalizeAlertmanagerV2Alerts([], NOW_MS))).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ['an object body', { alerts: [base] }, 'body: must be an array, got an object'],
    ['a label of the third alert', [base, base, { ...base, labels: { ...HOST_DOWN_LABELS, instance: 1 } }], 'alerts[2].labels.instance: must be a string, got a number'],
    ['missing labels', [{ annotations: {} }], 'alerts[0].labels: is required'],
    ['bad annotations', [{ ...base, annotations: 'x' }], 'alerts[0].annotations: must be an object, got a string'],
    ['bad startsAt', [{ ...base, startsAt: '2026-11-22 18:40' }], 'alerts[0].startsAt: must be an RFC 3339 timestamp, got "2026-11-22 18:40"'],
    ['numeric endsAt', [{ ...base, endsAt: 1 }], 'alerts[0].endsAt: must be a string, got a number'],
    ['bad generatorURL', [{ ...base, generatorURL: false }], 'alerts[0].generatorURL: must be a string, got a boolean'],
    ['an odd annotation name', [base, { ...base, annotations: { 'runbook url': 7 } }], 'alerts[1].annotations["runbook url"]: must be a string, got a number'],
    ['an empty label name', [{ ...base, labels: { '': 'x' } }], 'alerts[0].labels: names must not be empty'],
    ['labels whose values are all empty', [{ ...base, labels: { alertname: '', x: null } }], 'alerts[0].labels: must hold at least one label with a value'],
  ])('rejects %s', (_name, body, detail) => {
    expect(detailOf(normalizeAlertmanagerV2Alerts(body, NOW_MS))).toBe(detail);
  });

  it("moves times outside what ClickHouse stores (1900-2299) to its nearest end, as refusing would lose an Alertmanager group's every retry", () => {
    const [early, late] = alertsOf(
      normalizeAlertmanagerV2Alerts([{ ...base, startsAt: '1800-06-01T00:00:00Z', endsAt: undefined }, { ...base, endsAt: '9999-12-31T23:59:59Z' }], NOW_MS),
    );
    expect(early?.startsAtMs).toBe(Date.UTC(1900, 0, 1));
    expect(late?.endsAtMs).toBe(Date.UTC(2300, 0, 1) - 1);
  });

  it('drops labels with an empty or null value and takes null fields as absent, as Alertmanager does (so the fingerprints agree)', () => {
    const [withEmpty] = alertsOf(normalizeAlertmanagerV2Alerts([{ ...base, labels: { ...HOST_DOWN_LABELS, x: '', y: null } }], NOW_MS));
    const [plain] = alertsOf(normalizeAlertmanagerV2Alerts([base], NOW_MS));
    expect(withEmpty?.labels).toEqual(HOST_DOWN_LABELS);
    expect(withEmpty?.fingerprint).toBe(plain?.fingerprint);
    const [nulls] = alertsOf(normalizeAlertmanagerV2Alerts([{ labels: HOST_DOWN_LABELS, annotations: null, startsAt: null, endsAt: null, generatorURL: null }], NOW_MS));
    expect(nulls).toMatchObject({ annotations: {}, startsAtMs: NOW_MS, endsAtMs: null, status: 'firing' });
    expect(nulls?.generatorUrl).toBeUndefined();
  });

  it('keeps a __proto__ label an ordinary label (as JSON.parse makes it: an own property)', () => {
    const body: unknown = JSON.parse('[{"labels":{"__proto__":"x","alertname":"A"},"annotations":{"__proto__":"y"}}]');
    const [alert] = alertsOf(normalizeAlertmanagerV2Alerts(body, NOW_MS));
    expect(Object.keys(alert!.labels)).toEqual(['__proto__', 'alertname']);
    expect(Object.getPrototypeOf(alert!.labels)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(alert!.annotations, '__proto__')?.value).toBe('y');
    expect(alert!.fingerprint).toBe(fingerprintLabels(JSON.parse('{"__proto__":"x","alertname":"A"}') as Record<string, string>));
    expect(alert!.fingerprint).not.toBe(fingerprintLabels({ alertname: 'A' }));
  });
});

describe('normalizeVigilAlerts', () => {
  const valid = {
    labels: { alertname: 'BackupFailed', host: 'nas-1' },
    annotations: { summary: 'nightly backup failed' },
    status: 'firing',
    severity: 'major',
    startsAt: '2026-11-22T19:40:23+01:00',
  };

  it('accepts one object', () => {
    expect(alertsOf(normalizeVigilAlerts(valid, NOW_MS))).toEqual([
      {
        source: 'vigil',
        fingerprint: fingerprintLabels(valid.labels),
        labels: valid.labels,
        annotations: valid.annotations,
        status: 'firing',
        severity: 'major',
        startsAtMs: STARTS_MS,
        endsAtMs: null,
        receivedAtMs: NOW_MS,
      },
    ]);
  });

  it('accepts a list, keeping the sender’s fingerprint and source', () => {
    const alerts = alertsOf(
      normalizeVigilAlerts(
        [
          valid,
          { labels: { alertname: 'X', severity: 'P1' }, status: 'resolved', startsAt: '2026-11-22T18:40:23Z', endsAt: '2026-11-22T18:44:00Z', source: 'cron-check', fingerprint: 'backup/nas-1' },
        ],
        NOW_MS,
      ),
    );
    expect(alerts).toHaveLength(2);
    expect(alerts[1]).toMatchObject({ fingerprint: 'backup/nas-1', origin: 'cron-check', status: 'resolved', severity: 'critical', annotations: {} });
    expect(alerts[1]?.endsAtMs).toBe(Date.UTC(2026, 10, 22, 18, 44));
  });

  it('takes severity from the field over the label, and the label when the field is absent', () => {
    const labels = { alertname: 'X', severity: 'info' };
    expect(alertsOf(normalizeVigilAlerts({ ...valid, labels, severity: 'critical' }, NOW_MS))[0]?.severity).toBe('critical');
    const { severity: _omit, ...withoutSeverity } = valid;
    expect(alertsOf(normalizeVigilAlerts({ ...withoutSeverity, labels }, NOW_MS))[0]?.severity).toBe('info');
  });

  const allowed = 'allowed fields: labels, annotations, status, severity, startsAt, endsAt, source, fingerprint';
  it.each<[string, unknown, string]>([
    ['a string body', 'alert!', 'body: must be an object, got a string'],
    ['an unknown field', { ...valid, priority: 'P1' }, `priority: unknown field; ${allowed}`],
    ['an unknown field in a list', [valid, { ...valid, value: 3 }], `alerts[1].value: unknown field; ${allowed}`],
    ['a list item that is not an object', [null], 'alerts[0]: must be an object, got null'],
    ['no status', { ...valid, status: undefined }, 'status: is required'],
    ['a Prometheus-only status', { ...valid, status: 'pending' }, 'status: must be one of firing, resolved, got "pending"'],
    ['an unknown severity', { ...valid, severity: 'urgent' }, 'severity: must be one of critical, major, minor, warning, info, got "urgent"'],
    ['no startsAt', { ...valid, startsAt: undefined }, 'startsAt: is required'],
    ['an epoch number startsAt', { ...valid, startsAt: 1_700_000_000 }, 'startsAt: must be a string, got a number'],
    ['no labels', { ...valid, labels: {} }, 'labels: must hold at least one label with a value'],
    ['a non-string label', [valid, valid, { ...valid, labels: { instance: 3 } }], 'alerts[2].labels.instance: must be a string, got a number'],
    ['an empty label name', { ...valid, labels: { '': 'x' } }, 'labels: names must not be empty'],
    ['a numeric fingerprint', { ...valid, fingerprint: 12 }, 'fingerprint: must be a string, got a number'],
  ])('rejects %s', (_name, body, detail) => {
    expect(detailOf(normalizeVigilAlerts(body, NOW_MS))).toBe(detail);
  });
});

/** Alertmanager's default PagerDuty details text (`__text_alert_list`) for a list of alerts. */
function textAlertList(alerts: { labels: Record<string, string>; annotations: Record<string, string>; generatorUrl: string }[]): string {
  const pairs = (m: Record<string, string>): string =>
    Object.keys(m)
      .sort()
      .map((k) => ` - ${k} = ${m[k] ?? ''}\n`)
      .join('');
  return alerts.map((a) => `Labels:\n${pairs(a.labels)}Annotations:\n${pairs(a.annotations)}Source: ${a.generatorUrl}\n`).join('');
}

describe('normalizePagerDutyEvent', () => {
  const trigger = {
    routing_key: 'R0UTINGKEY0000000000000000000000',
    event_action: 'trigger',
    dedup_key: 'srv01/HTTP',
    payload: {
      summary: 'Example alert on host1.example.com',
      source: 'host1.example.com',
      severity: 'error',
      timestamp: '2015-07-17T08:42:58.315+0000',
      component: 'postgres',
      group: 'prod-datapipe',
      class: 'deploy',
      custom_details: { 'ping time': '1500ms', 'load avg': 0.75, nested: { a: [1] } },
    },
    client: 'Sample Monitoring Service',
    client_url: 'https://monitoring.example.com',
    links: [{ href: 'https://example.com', text: 'x' }],
  };

  it('maps a trigger to one alert keyed by dedup_key, without the routing key', () => {
    const alerts = alertsOf(normalizePagerDutyEvent(trigger, NOW_MS));
    expect(alerts).toEqual([
      {
        source: 'pagerduty',
        fingerprint: 'srv01/HTTP',
        labels: { source: 'host1.example.com', severity: 'error', component: 'postgres', group: 'prod-datapipe', class: 'deploy' },
        annotations: {
          summary: 'Example alert on host1.example.com',
          'ping time': '1500ms',
          'load avg': '0.75',
          nested: '{"a":[1]}',
          client_url: 'https://monitoring.example.com',
        },
        status: 'firing',
        severity: 'major',
        startsAtMs: Date.UTC(2015, 6, 17, 8, 42, 58, 315),
        endsAtMs: null,
        receivedAtMs: NOW_MS,
        origin: 'Sample Monitoring Service',
      },
    ]);
    expect(JSON.stringify(alerts)).not.toContain(trigger.routing_key);
  });

  it('keys a trigger without dedup_key by its label fingerprint', () => {
    const { dedup_key: _omit, ...body } = trigger;
    const [alert] = alertsOf(normalizePagerDutyEvent(body, NOW_MS));
    expect(alert?.fingerprint).toBe(fingerprintLabels(alert?.labels ?? {}));
  });

  it('maps acknowledge to a firing, acknowledged alert and resolve to a resolved one (payload optional)', () => {
    const base = { routing_key: trigger.routing_key, dedup_key: 'srv01/HTTP' };
    const [ack] = alertsOf(normalizePagerDutyEvent({ ...base, event_action: 'acknowledge' }, NOW_MS));
    expect(ack).toMatchObject({ fingerprint: 'srv01/HTTP', status: 'firing', acknowledged: true, bare: true, labels: {}, startsAtMs: NOW_MS, endsAtMs: null });
    const [resolved] = alertsOf(normalizePagerDutyEvent({ ...base, event_action: 'resolve' }, NOW_MS));
    expect(resolved).toMatchObject({ fingerprint: 'srv01/HTTP', status: 'resolved', endsAtMs: NOW_MS });
    expect(resolved?.acknowledged).toBeUndefined();
  });

  describe('events sent by Alertmanager', () => {
    const groupKey = '{}:{alertname="HostDown"}';
    const dedupKey = createHash('sha256').update(groupKey).digest('hex');
    type TextAlertInput = { labels: Record<string, string>; annotations: Record<string, string>; generatorUrl: string };
    const second: TextAlertInput = {
      labels: { alertname: 'HostDown', instance: 'h1-4:9100', job: 'node', severity: 'warning' },
      annotations: { description: 'no scrape for 5m\nsecond line = still text', summary: 'h1-4 is down' },
      generatorUrl: '',
    };
    const resolvedOne: TextAlertInput = { labels: { alertname: 'HostDown', instance: 'h1-5:9100', job: 'node' }, annotations: {}, generatorUrl: 'http://p:9090/g' };
    const firingList: TextAlertInput[] = [{ labels: HOST_DOWN_LABELS, annotations: { summary: 'h1-3 is down' }, generatorUrl: 'http://prometheus.example:9090/graph?g0.expr=up+%3D%3D+0' }, second];
    const amEvent = (action: string, firing: TextAlertInput[], resolved: TextAlertInput[]): unknown => ({
      routing_key: trigger.routing_key,
      event_action: action,
      dedup_key: dedupKey,
      payload: {
        summary: '[FIRING:2] HostDown',
        source: 'Alertmanager',
        severity: 'error',
        custom_details: { firing: textAlertList(firing), resolved: textAlertList(resolved), num_firing: String(firing.length), num_resolved: String(resolved.length) },
      },
      client: 'Alertmanager',
      client_url: 'http://alertmanager:9093/#/alerts?receiver=pd',
    });

    it('unpacks each alert with the fingerprint the webhook would carry', () => {
      const alerts = alertsOf(normalizePagerDutyEvent(amEvent('trigger', firingList, [resolvedOne]), NOW_MS));
      expect(alerts).toHaveLength(3);
      expect(alerts[0]).toEqual({
        source: 'pagerduty',
        fingerprint: '40d4eb4003aa315b',
        labels: HOST_DOWN_LABELS,
        annotations: { summary: 'h1-3 is down' },
        status: 'firing',
        severity: 'critical',
        startsAtMs: NOW_MS,
        endsAtMs: null,
        generatorUrl: 'http://prometheus.example:9090/graph?g0.expr=up+%3D%3D+0',
        receivedAtMs: NOW_MS,
        groupKey: dedupKey,
        origin: 'Alertmanager',
      });
      expect(alerts[1]).toMatchObject({ labels: second.labels, annotations: second.annotations, severity: 'warning', status: 'firing' });
      expect(alerts[1]?.generatorUrl).toBeUndefined();
      // No severity label: the event's own severity (error → major) applies.
      expect(alerts[2]).toMatchObject({ labels: resolvedOne.labels, status: 'resolved', severity: 'major', endsAtMs: NOW_MS, fingerprint: fingerprintLabels(resolvedOne.labels) });
    });

    it('resolves every alert of a resolve event', () => {
      const alerts = alertsOf(normalizePagerDutyEvent(amEvent('resolve', [], firingList), NOW_MS));
      expect(alerts.map((a) => [a.fingerprint, a.status])).toEqual([
        ['40d4eb4003aa315b', 'resolved'],
        [fingerprintLabels(second.labels), 'resolved'],
      ]);
    });

    it.each<[string, (string | number)[], unknown]>([
      ['a custom details template', ['payload', 'custom_details'], { firing: 'HostDown on 2 hosts', resolved: '' }],
      ['counts that disagree with the lists', ['payload', 'custom_details', 'num_firing'], '3'],
      ['details dropped for size', ['payload', 'custom_details'], DELETE],
    ])('keeps the group as one alert keyed by dedup_key for %s', (_name, path, value) => {
      const alerts = alertsOf(normalizePagerDutyEvent(patch(amEvent('trigger', firingList, []), path, value), NOW_MS));
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ fingerprint: dedupKey, labels: { source: 'Alertmanager', severity: 'error' }, status: 'firing' });
    });
  });

  it.each<[string, unknown, string]>([
    ['a list body', [trigger], 'body: must be an object, got an array'],
    ['no routing_key', { ...trigger, routing_key: undefined }, 'routing_key: is required'],
    ['an empty routing_key', { ...trigger, routing_key: '' }, 'routing_key: must not be empty'],
    ['an unknown event_action', { ...trigger, event_action: 'escalate' }, 'event_action: must be one of trigger, acknowledge, resolve, got "escalate"'],
    ['resolve without dedup_key', { routing_key: 'k', event_action: 'resolve' }, 'dedup_key: is required for resolve'],
    ['a long dedup_key', { ...trigger, dedup_key: 'x'.repeat(256) }, 'dedup_key: must be at most 255 characters'],
    ['trigger without payload', { ...trigger, payload: undefined }, 'payload: is required'],
    ['trigger without summary', patch(trigger, ['payload', 'summary'], DELETE), 'payload.summary: is required'],
    ['a long summary', patch(trigger, ['payload', 'summary'], 's'.repeat(1025)), 'payload.summary: must be at most 1024 characters'],
    ['trigger without source', patch(trigger, ['payload', 'source'], DELETE), 'payload.source: is required'],
    ['a non-PagerDuty severity', patch(trigger, ['payload', 'severity'], 'high'), 'payload.severity: must be one of critical, error, warning, info, got "high"'],
    ['a bad timestamp', patch(trigger, ['payload', 'timestamp'], '17/07/2015'), 'payload.timestamp: must be an RFC 3339 timestamp, got "17/07/2015"'],
    ['a non-string component', patch(trigger, ['payload', 'component'], 5), 'payload.component: must be a string, got a number'],
  ])('rejects %s', (_name, body, detail) => {
    expect(detailOf(normalizePagerDutyEvent(body, NOW_MS))).toBe(detail);
  });
});

describe('mapSeverity', () => {
  it.each<[string | undefined, Severity]>([
    ['critical', 'critical'], ['crit', 'critical'], ['page', 'critical'], ['P1', 'critical'], [' Critical ', 'critical'],
    ['error', 'major'], ['major', 'major'], ['high', 'major'], ['ERROR', 'major'],
    ['minor', 'minor'], ['medium', 'minor'],
    ['warning', 'warning'], ['warn', 'warning'],
    ['info', 'info'], ['informational', 'info'], ['low', 'info'], ['none', 'info'],
    [undefined, 'warning'], ['', 'warning'], ['sev-unknown', 'warning'], ['toString', 'warning'], ['constructor', 'warning'], ['__proto__', 'warning'],
  ])('maps %j to %s', (word, severity) => {
    expect(mapSeverity(word)).toBe(severity);
  });
});

describe('parseTimestampMs', () => {
  it.each<[string, number | null]>([
    ['2026-11-22T18:40:23Z', STARTS_MS],
    ['2026-11-22T18:40:23.123456789Z', STARTS_MS + 123],
    ['2026-11-22t18:40:23.5z', STARTS_MS + 500],
    ['2026-11-22T20:40:23+02:00', STARTS_MS],
    ['2026-11-22T18:40:23-0000', STARTS_MS],
    ['0001-01-01T00:00:00Z', -62_135_596_800_000],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2025-02-29T00:00:00Z', null],
    ['2026-13-01T00:00:00Z', null],
    ['2026-11-22T24:00:00Z', null],
    ['2026-11-22T18:40:23', null],
    ['2026-11-22', null],
    ['', null],
  ])('parses %j', (text, ms) => {
    expect(parseTimestampMs(text)).toBe(ms);
  });
});

describe('parseAlertmanagerTextAlerts', () => {
  it('returns null for text that is not the default template', () => {
    expect(parseAlertmanagerTextAlerts('Labels:\n - a = b\n')).toBeNull();
    expect(parseAlertmanagerTextAlerts('Disk full on db-2')).toBeNull();
  });

  it('reads an empty list as no alerts', () => {
    expect(parseAlertmanagerTextAlerts('')).toEqual([]);
  });
});

describe('never throws', () => {
  const normalizers = [normalizeAlertmanagerWebhook, normalizeAlertmanagerV2Alerts, normalizeVigilAlerts, normalizePagerDutyEvent];

  it('answers a result for arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (body) => {
        for (const normalize of normalizers) expect(typeof normalize(body, NOW_MS).ok).toBe('boolean');
      }),
      { numRuns: 300 },
    );
  });

  it('answers a result for arbitrary alert-shaped objects', () => {
    const shaped = fc.record(
      {
        version: fc.constantFrom('4', 4),
        routing_key: fc.string(),
        event_action: fc.constantFrom('trigger', 'resolve', 'acknowledge'),
        dedup_key: fc.string(),
        alerts: fc.array(fc.dictionary(fc.constantFrom('labels', 'annotations', 'status', 'startsAt', 'endsAt', 'fingerprint'), fc.jsonValue())),
        payload: fc.dictionary(fc.constantFrom('summary', 'source', 'severity', 'timestamp', 'custom_details'), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(shaped, (body) => {
        for (const normalize of normalizers) expect(typeof normalize(body, NOW_MS).ok).toBe('boolean');
        expect(typeof normalizeAlertmanagerV2Alerts(body.alerts ?? [], NOW_MS).ok).toBe('boolean');
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a cyclic custom_details instead of throwing', () => {
    const details: Record<string, unknown> = {};
    details['self'] = details;
    const body = { routing_key: 'k', event_action: 'trigger', payload: { summary: 's', source: 'h', severity: 'info', custom_details: details } };
    expect(detailOf(normalizePagerDutyEvent(body, NOW_MS))).toMatch(/^body could not be read: /);
  });
});

describe('parseTimestampMs remembers its last two answers', () => {
  it('answers repeats and alternations exactly as a fresh parse, and still refuses the empty string first', () => {
    expect(parseTimestampMs('')).toBeNull();
    const a = '2026-11-23T09:00:00Z';
    const b = '2026-11-23T10:00:00.5+01:00';
    const c = '1970-01-01T00:00:00Z';
    const sequence = [a, b, a, b, c, a, '', 'not a time', b, c, c];
    const expected: Record<string, number | null> = {
      [a]: Date.UTC(2026, 10, 23, 9),
      [b]: Date.UTC(2026, 10, 23, 9, 0, 0, 500),
      [c]: 0,
      '': null,
      'not a time': null,
    };
    for (const text of sequence) expect(parseTimestampMs(text), text).toBe(expected[text]);
  });
});
