import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixedClock } from '../../src/shared/clock.js';
import { startReceiver, type HttpReceiver } from '../helpers/http-receiver.js';
import { scrapeSamples } from '../helpers/metric-names.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { until } from '../helpers/until.js';

// /metrics of the incident core as an operator's dashboard and alert rules read it: intake
// requests and events by sender, alerts and incidents held, SLA breaches, escalations and
// webhook deliveries. A fixed clock moved by hand; the sweeps (every second) notice.
const MIN = 60_000;
const t0 = Date.parse('2026-11-23T09:00:00Z');
const clock = createFixedClock(t0);
let receiver: HttpReceiver;
let vigil: TestVigil;
let requestsSeen = 0;

beforeAll(async () => {
  // The first delivery fails (a retry follows), every later one is taken.
  receiver = await startReceiver((_request, response) => {
    requestsSeen++;
    response.writeHead(requestsSeen === 1 ? 500 : 200).end();
  });
  vigil = await startTestVigil({
    clock,
    overrides: (c) => {
      c.incidents.autoResolveHoldMs = 0;
      c.alerts.resolveTimeoutMs = 30 * 86_400_000;
      c.notifications = {
        routes: [{ name: 'ops', url: `${receiver.url}/ops`, format: 'json', kinds: ['created'] }],
        maxAttempts: 3,
        retryBaseDelayMs: 50,
        timeoutMs: 1_000,
      };
      c.incidents.escalation = { levels: [{ afterMs: 10 * MIN, routes: [] }] };
    },
  });
});
afterAll(async () => {
  await vigil?.stop();
  await receiver?.close();
});

const scrape = () => scrapeSamples(`${vigil.url}/metrics`);

/** Waits until a sample of /metrics has this value. */
const metricReaches = (sample: string, value: number) => until(`${sample} = ${value}`, async () => ((await scrape()).get(sample) === value ? true : undefined));

const post = (path: string, body: string, contentType = 'application/json') =>
  fetch(`${vigil.url}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });

function alertsBody(endsAtMs: number): string {
  return JSON.stringify(
    ['web-1', 'web-2'].map((host) => ({
      labels: { alertname: 'MetricsProbe', instance: `${host}:9100`, severity: 'critical' },
      startsAt: new Date(t0).toISOString(),
      endsAt: new Date(endsAtMs).toISOString(),
    })),
  );
}

async function incidentPriority(): Promise<string> {
  const body = (await (await fetch(`${vigil.url}/api/v1/incidents?status=all`)).json()) as { incidents: { priority: string }[] };
  expect(body.incidents).toHaveLength(1);
  return body.incidents[0]!.priority;
}

describe('/metrics of the incident core', () => {
  it('reads zero before anything arrived, with every series a rule may ask for already there', async () => {
    const metrics = await scrape();
    // increase() sees a counter's first event only when its series existed before it.
    const atZero = [
      'vigil_notification_attempts_total{outcome="failed",route="ops"}',
      'vigil_alert_requests_total{outcome="unavailable",source="alertmanager"}',
      'vigil_alert_events_total{source="pagerduty",status="resolved"}',
      'vigil_ingest_requests_total{outcome="invalid",protocol="influx"}',
      'vigil_incidents_created_total{priority="P1"}',
      'vigil_writer_rejected_total{reason="overload"}',
      'vigil_journal_insert_duration_seconds_count{outcome="error"}',
      'vigil_alerts_active{status="firing"}',
      'vigil_incidents_sla_breached',
      'vigil_notifications_pending',
      'vigil_incidents{priority="P1",status="new"}',
      'vigil_notification_attempts_total{outcome="failed",route="(removed)"}',
    ];
    for (const sample of atZero) expect(metrics.get(sample), sample).toBe(0);
  });

  it('counts intake requests by sender and outcome, and events by status', async () => {
    // A lease longer than the clock moves here: the alerts resolve only when told to, below.
    expect((await post('/api/v2/alerts', alertsBody(t0 + 7 * 86_400_000))).status).toBe(200);
    expect((await post('/api/v2/alerts', '[{"labels":')).status).toBe(400);
    expect((await post('/api/v2/alerts', '[]', 'text/plain')).status).toBe(415);
    expect((await post('/v2/enqueue', '{"event_action":"trigger"}')).status).toBe(400);
    const metrics = await scrape();
    expect(metrics.get('vigil_alert_requests_total{outcome="stored",source="prometheus"}')).toBe(1);
    expect(metrics.get('vigil_alert_requests_total{outcome="invalid",source="prometheus"}')).toBe(1);
    expect(metrics.get('vigil_alert_requests_total{outcome="unsupported",source="prometheus"}')).toBe(1);
    expect(metrics.get('vigil_alert_requests_total{outcome="invalid",source="pagerduty"}')).toBe(1);
    expect(metrics.get('vigil_alert_events_total{source="prometheus",status="firing"}')).toBe(2);
    expect(metrics.get('vigil_alerts_active{status="firing"}')).toBe(2);
  });

  it('shows the incident opened, by status and priority', async () => {
    const priority = await incidentPriority();
    const metrics = await scrape();
    expect(metrics.get(`vigil_incidents{priority="${priority}",status="new"}`)).toBe(1);
    expect(metrics.get(`vigil_incidents_created_total{priority="${priority}"}`)).toBe(1);
  });

  it('counts webhook attempts by route and outcome: a failure retried, then delivered', async () => {
    await metricReaches('vigil_notification_attempts_total{outcome="delivered",route="ops"}', 1);
    const metrics = await scrape();
    expect(metrics.get('vigil_notification_attempts_total{outcome="retrying",route="ops"}')).toBe(1);
    expect(metrics.get('vigil_notification_attempt_duration_seconds_count{route="ops"}')).toBe(2);
    expect(metrics.get('vigil_notifications_pending')).toBe(0);
  });

  it('counts an escalation once its level is reached', async () => {
    expect((await scrape()).get('vigil_incident_escalations_total{reason="not_acknowledged"}')).toBe(0);
    clock.set(t0 + 11 * MIN);
    await metricReaches('vigil_incident_escalations_total{reason="not_acknowledged"}', 1);
  });

  it('shows open incidents in SLA breach, and no longer once resolved', async () => {
    // Past every default resolution target.
    clock.set(t0 + 3 * 86_400_000);
    await metricReaches('vigil_incidents_sla_breached', 1);
    // The alerts resolve (endsAt now), and with them the incident (no hold).
    expect((await post('/api/v2/alerts', alertsBody(clock.nowMs()))).status).toBe(200);
    const priority = await incidentPriority();
    await metricReaches(`vigil_incidents{priority="${priority}",status="resolved"}`, 1);
    const metrics = await scrape();
    expect(metrics.get('vigil_incidents_sla_breached')).toBe(0);
    // 0, not gone: a graph of it drops to 0 instead of ending.
    expect(metrics.get(`vigil_incidents{priority="${priority}",status="new"}`)).toBe(0);
    expect(metrics.get('vigil_alerts_active{status="resolved"}')).toBe(2);
    expect(metrics.get('vigil_alerts_active{status="firing"}')).toBe(0);
    expect(metrics.get('vigil_alert_events_total{source="prometheus",status="resolved"}')).toBe(2);
  });
});
