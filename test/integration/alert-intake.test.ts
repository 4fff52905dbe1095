import { readFileSync } from 'node:fs';
import { deflateSync, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixedClock } from '../../src/shared/clock.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

const webhookDir = join(import.meta.dirname, '../fixtures/alertmanager-0.25-webhook');
const webhook = (n: number) => readFileSync(join(webhookDir, `webhook-${n}.json`), 'utf8');

interface AlertJson {
  fingerprint: string;
  status: string;
  severity: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  eventCount: number;
  resolvedAt: string | null;
  endsAt: string | null;
}

// A clock the test moves, so lease expiry is exact.
const clock = createFixedClock(Date.parse('2026-11-23T12:00:00Z'));
let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startTestVigil({ clock });
});
afterAll(async () => {
  await vigil?.stop();
});

const post = (path: string, body: string) => fetch(`${vigil.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
async function alerts(status = 'all'): Promise<{ alerts: AlertJson[]; total: number }> {
  const response = await fetch(`${vigil.url}/api/v1/alerts?status=${status}`);
  expect(response.status).toBe(200);
  return (await response.json()) as { alerts: AlertJson[]; total: number };
}

describe('alert intake from Alertmanager 0.25 webhooks (captured bodies)', () => {
  it('stores firing alerts under Alertmanager fingerprints, dedups re-sends, resolves on the resolved notice', async () => {
    const firing = JSON.parse(webhook(1)) as { alerts: { fingerprint: string }[] };
    expect((await post('/api/v1/alerts/alertmanager', webhook(1))).status).toBe(200);
    expect((await post('/api/v1/alerts/alertmanager', webhook(1))).status).toBe(200);
    const after = await alerts('firing');
    expect(after.alerts.map((a) => a.fingerprint).sort()).toEqual(firing.alerts.map((a) => a.fingerprint).sort());
    expect(after.alerts.every((a) => a.eventCount === 2)).toBe(true);

    for (const n of [2, 3]) expect((await post('/api/v1/alerts/alertmanager', webhook(n))).status).toBe(200);
    const all = await alerts('all');
    const resolvedNotice = JSON.parse(webhook(3)) as { alerts: { fingerprint: string; status: string }[] };
    for (const a of resolvedNotice.alerts.filter((x) => x.status === 'resolved')) {
      const stored = all.alerts.find((s) => s.fingerprint === a.fingerprint);
      expect(stored?.status).toBe('resolved');
      expect(stored?.resolvedAt).not.toBeNull();
    }
    // Repeating the resolved notice is harmless.
    expect((await post('/api/v1/alerts/alertmanager', webhook(3))).status).toBe(200);
    expect((await alerts('all')).total).toBe(all.total);
  });

  it('keeps a webhook alert firing past the resolve timeout: Alertmanager notifies once, not every few minutes', async () => {
    const body = JSON.parse(webhook(1)) as { alerts: { labels: Record<string, string>; fingerprint: string }[] };
    body.alerts = body.alerts.map((a) => ({ ...a, labels: { ...a.labels, alertname: 'WebhookQuiet' }, fingerprint: `${a.fingerprint.slice(0, 12)}beef` }));
    expect((await post('/api/v1/alerts/alertmanager', JSON.stringify(body))).status).toBe(200);
    // Past the 5-minute resolve timeout, with no re-send (repeat_interval is 4 h by default).
    clock.advance(30 * 60_000);
    await new Promise((r) => setTimeout(r, 1_500));
    const quiet = (await alerts('all')).alerts.filter((a) => a.labels.alertname === 'WebhookQuiet');
    expect(quiet.length).toBe(body.alerts.length);
    expect(quiet.every((a) => a.status === 'firing')).toBe(true);
  });

  it('counts the alerts Alertmanager left out of a webhook (max_alerts) on /metrics', async () => {
    const body = JSON.parse(webhook(1)) as { truncatedAlerts: number };
    body.truncatedAlerts = 7;
    expect((await post('/api/v1/alerts/alertmanager', JSON.stringify(body))).status).toBe(200);
    const metrics = await (await fetch(`${vigil.url}/metrics`)).text();
    expect(metrics).toMatch(/^vigil_alerts_truncated_total 7$/m);
  });

  it('rejects a malformed webhook whole, naming the problem', async () => {
    const before = (await alerts('all')).total;
    const response = await post('/api/v1/alerts/alertmanager', JSON.stringify({ version: '4', status: 'firing', alerts: [{ labels: { a: 1 } }] }));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/alerts\[0\]/);
    expect((await alerts('all')).total).toBe(before);
    expect((await post('/api/v1/alerts/alertmanager', '{not json')).status).toBe(400);
  });
});

describe('alerts as Prometheus sends them (/api/v2/alerts), with a lease', () => {
  it('keeps a re-sent alert firing and resolves it when its endsAt lease runs out', async () => {
    const now = clock.nowMs();
    const alert = (endsAt: number) =>
      JSON.stringify([
        { labels: { alertname: 'NodeDown', instance: 'db-1:9100', job: 'node', severity: 'critical' }, annotations: { summary: 'db-1 down' }, startsAt: new Date(now).toISOString(), endsAt: new Date(endsAt).toISOString(), generatorURL: 'http://prometheus/graph' },
      ]);
    expect((await post('/api/v2/alerts', alert(now + 60_000))).status).toBe(200);
    clock.advance(30_000);
    expect((await post('/api/v2/alerts', alert(now + 90_000))).status).toBe(200);
    let nodeDown = (await alerts('firing')).alerts.find((a) => a.labels.alertname === 'NodeDown');
    expect(nodeDown).toMatchObject({ status: 'firing', severity: 'critical', eventCount: 2 });
    // No re-send: the lease runs out at now + 90 s; the sweeper runs every second.
    clock.advance(61_000);
    await new Promise((r) => setTimeout(r, 1_500));
    nodeDown = (await alerts('all')).alerts.find((a) => a.labels.alertname === 'NodeDown');
    expect(nodeDown).toMatchObject({ status: 'resolved', resolvedAt: new Date(now + 90_000).toISOString() });
  });

  it('stores each re-send with its own annotations, the alert showing the latest', async () => {
    const send = (summary: string, extra: Record<string, string> = {}) =>
      post('/api/v2/alerts', JSON.stringify([{ labels: { alertname: 'DiskFull', instance: 'db-2:9100' }, annotations: { summary, ...extra }, startsAt: new Date(clock.nowMs()).toISOString() }]));
    const listed = async () => (await alerts('firing')).alerts.find((a) => a.labels.alertname === 'DiskFull');
    expect((await send('90% full')).status).toBe(200);
    expect((await send('90% full')).status).toBe(200);
    expect(await listed()).toMatchObject({ annotations: { summary: '90% full' }, eventCount: 2 });
    expect((await send('95% full', { runbook: 'r1' })).status).toBe(200);
    expect(await listed()).toMatchObject({ annotations: { summary: '95% full', runbook: 'r1' }, eventCount: 3 });
    expect((await send('90% full')).status).toBe(200);
    expect((await listed())?.annotations).toEqual({ summary: '90% full' });

    // Each event as received, newest first, through the API.
    const fingerprint = (await listed())!.fingerprint;
    const history = await fetch(`${vigil.url}/api/v1/alerts/${encodeURIComponent(fingerprint)}/events`);
    expect(history.status).toBe(200);
    const body = (await history.json()) as { events: { seq: number; labels: Record<string, string>; annotations: Record<string, string>; source: string }[]; total: number };
    expect(body.total).toBe(4);
    expect(body.events.map((e) => [e.seq, e.annotations])).toEqual([
      [4, { summary: '90% full' }],
      [3, { summary: '95% full', runbook: 'r1' }],
      [2, { summary: '90% full' }],
      [1, { summary: '90% full' }],
    ]);
    for (const e of body.events) expect(e).toMatchObject({ source: 'prometheus', labels: { alertname: 'DiskFull', instance: 'db-2:9100' } });
    const page = (await (await fetch(`${vigil.url}/api/v1/alerts/${fingerprint}/events?limit=1&offset=1`)).json()) as typeof body;
    expect(page.events.map((e) => e.seq)).toEqual([3]);
    expect(page.total).toBe(4);
  });

  it('lists no events for an unknown fingerprint, and answers 400 for a bad page', async () => {
    expect(await (await fetch(`${vigil.url}/api/v1/alerts/no-such-alert/events`)).json()).toEqual({ events: [], total: 0 });
    const bad = await fetch(`${vigil.url}/api/v1/alerts/no-such-alert/events?limit=0`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toMatch(/limit/);
  });

  it('answers 400 for a list that is not alerts, and lists with limit and total', async () => {
    expect((await post('/api/v2/alerts', JSON.stringify({ labels: {} }))).status).toBe(400);
    const page = await fetch(`${vigil.url}/api/v1/alerts?status=all&limit=1`);
    const body = (await page.json()) as { alerts: unknown[]; total: number };
    expect(body.alerts).toHaveLength(1);
    expect(body.total).toBeGreaterThan(1);
    expect((await fetch(`${vigil.url}/api/v1/alerts?status=open`)).status).toBe(400);
  });
});

describe('bodies that are not JSON', () => {
  it('answers 400 naming the JSON error, or the forbidden __proto__ key, and stores nothing', async () => {
    const before = (await alerts('all')).total;
    const truncated = await post('/api/v2/alerts', '[{"labels":{"a":"b"}');
    expect(truncated.status).toBe(400);
    expect(await truncated.json()).toMatchObject({ error: 'REQUEST_INVALID', detail: expect.stringMatching(/^body is not valid JSON: .*JSON/) });
    const poisoned = await post('/api/v2/alerts', '[{"labels":{"a":"b","__proto__":{"x":"y"}}}]');
    expect(poisoned.status).toBe(400);
    expect(((await poisoned.json()) as { detail: string }).detail).toContain('"__proto__"');
    const empty = await post('/api/v1/alerts', '');
    expect(empty.status).toBe(400);
    expect((await alerts('all')).total).toBe(before);
  });

  it('takes gzip and deflate JSON, and answers 415 naming any other Content-Encoding, storing nothing', async () => {
    const body = (alertname: string) => JSON.stringify([{ labels: { alertname }, status: 'firing', severity: 'info', startsAt: new Date(clock.nowMs()).toISOString() }]);
    const send = (encoding: string, raw: Buffer) =>
      fetch(`${vigil.url}/api/v1/alerts`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': encoding }, body: raw });
    expect((await send('gzip', gzipSync(body('Gzipped')))).status).toBe(200);
    expect((await send('deflate', deflateSync(body('Deflated')))).status).toBe(200);
    const names = (await alerts('all')).alerts.map((a) => a.labels.alertname);
    expect(names).toEqual(expect.arrayContaining(['Gzipped', 'Deflated']));
    const brotli = await send('br', Buffer.from(body('Brotli')));
    expect(brotli.status).toBe(415);
    expect(((await brotli.json()) as { detail: string }).detail).toMatch(/Content-Encoding br/);
    expect((await alerts('all')).alerts.some((a) => a.labels.alertname === 'Brotli')).toBe(false);
  });

  it('reads Prometheus lists gzipped, and lists outside its plain form (escapes, UTF-8) as they mean', async () => {
    const startsAt = new Date(clock.nowMs()).toISOString();
    const zipped = await fetch(`${vigil.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify([{ labels: { alertname: 'GzippedList' }, startsAt }])),
    });
    expect(zipped.status).toBe(200);
    // An escaped quote and non-ASCII text take the general reading; both readings must agree on the result.
    const general = await post('/api/v2/alerts', JSON.stringify([{ labels: { alertname: 'Quoted"List', room: 'Température' }, annotations: { summary: 'é' }, startsAt }]));
    expect(general.status).toBe(200);
    const listed = (await alerts('all')).alerts;
    expect(listed.find((a) => a.labels.alertname === 'GzippedList')).toBeDefined();
    expect(listed.find((a) => a.labels.alertname === 'Quoted"List')?.labels).toEqual({ alertname: 'Quoted"List', room: 'Température' });
  });

  it('answers 415 for a body that is not sent as JSON, as Alertmanager does, storing nothing', async () => {
    const before = (await alerts('all')).total;
    const body = JSON.stringify([{ labels: { alertname: 'PlainText' } }]);
    for (const path of ['/api/v2/alerts', '/api/v1/alerts', '/api/v1/alerts/alertmanager', '/v2/enqueue']) {
      const response = await fetch(`${vigil.url}${path}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
      expect([path, response.status]).toEqual([path, 415]);
      expect(((await response.json()) as { detail: string }).detail).toContain('Content-Type text/plain');
    }
    expect((await alerts('all')).total).toBe(before);
  });
});

describe('request errors', () => {
  it("answers a path that does not decode, or an overlong id, in Vigil's error shape; long valid ids reach their route", async () => {
    const badPath = await fetch(`${vigil.url}/api/v1/incidents/%zz`);
    expect(badPath.status).toBe(400);
    expect(await badPath.json()).toMatchObject({ error: 'REQUEST_INVALID', detail: expect.stringMatching(/not a valid url component/) });
    const overlong = await fetch(`${vigil.url}/api/v1/incidents/${'a'.repeat(2_000)}`);
    expect(overlong.status).toBe(414);
    expect(await overlong.json()).toMatchObject({ error: 'REQUEST_INVALID' });
    // A 255-character fingerprint (PagerDuty's dedup_key limit) reaches the route: an empty list, not a 414.
    const events = await fetch(`${vigil.url}/api/v1/alerts/${'f'.repeat(255)}/events`);
    expect(events.status).toBe(200);
  });

  it('takes an action posted with a JSON content type and no body as an action without a body', async () => {
    const response = await fetch(`${vigil.url}/api/v1/incidents/no-such-incident/acknowledge`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    // Past the body: the unknown id is what is wrong.
    expect(response.status).toBe(404);
  });
});

describe("Vigil's own JSON and PagerDuty events", () => {
  it('takes both and answers as PagerDuty does', async () => {
    const own = await post('/api/v1/alerts', JSON.stringify([{ labels: { alertname: 'Custom', host: 'h1' }, status: 'firing', severity: 'minor', startsAt: new Date(clock.nowMs()).toISOString() }]));
    expect(own.status).toBe(200);
    const pd = await post('/v2/enqueue', JSON.stringify({ routing_key: 'r'.repeat(32), event_action: 'trigger', dedup_key: 'disk-db-2', payload: { summary: 'disk full on db-2', source: 'db-2', severity: 'error' } }));
    expect(pd.status).toBe(202);
    expect(await pd.json()).toMatchObject({ status: 'success', dedup_key: 'disk-db-2' });
    const fingerprints = (await alerts('firing')).alerts.map((a) => a.fingerprint);
    expect(fingerprints).toContain('disk-db-2');
    const unknownField = await post('/api/v1/alerts', JSON.stringify([{ labels: { a: 'b' }, status: 'firing', colour: 'red' }]));
    expect(unknownField.status).toBe(400);
  });

  it('an acknowledge acknowledges the incident of a firing alert, fires no resolved alert again, and makes no alert of a key it does not know', async () => {
    const enqueue = (body: object) => post('/v2/enqueue', JSON.stringify({ routing_key: 'r'.repeat(32), ...body }));
    await enqueue({ event_action: 'trigger', dedup_key: 'pd-ack', payload: { summary: 'queue stuck', source: 'mq-1', severity: 'critical' } });
    const incidentOf = async (fingerprint: string) => {
      const open = ((await (await fetch(`${vigil.url}/api/v1/incidents?status=all`)).json()) as { incidents: { id: string }[] }).incidents;
      for (const { id } of open) {
        const detail = (await (await fetch(`${vigil.url}/api/v1/incidents/${id}`)).json()) as { status: string; alerts: { fingerprint: string }[]; timeline: { kind: string; actor: string; to?: string }[] };
        if (detail.alerts.some((a) => a.fingerprint === fingerprint)) return detail;
      }
      return undefined;
    };
    expect((await incidentOf('pd-ack'))?.status).toBe('new');
    expect((await enqueue({ event_action: 'acknowledge', dedup_key: 'pd-ack', client: 'Zabbix' })).status).toBe(202);
    const acked = (await alerts('firing')).alerts.find((a) => a.fingerprint === 'pd-ack');
    expect(acked).toMatchObject({ severity: 'critical', annotations: { summary: 'queue stuck' } });
    // As PagerDuty's: the acknowledge event acknowledges the incident, by the sending client.
    const incident = await incidentOf('pd-ack');
    expect(incident?.status).toBe('acknowledged');
    expect(incident?.timeline.filter((e) => e.kind === 'transition')).toEqual([expect.objectContaining({ actor: 'Zabbix', to: 'acknowledged' })]);
    // Again: harmless (already acknowledged).
    expect((await enqueue({ event_action: 'acknowledge', dedup_key: 'pd-ack' })).status).toBe(202);
    expect((await incidentOf('pd-ack'))?.timeline.filter((e) => e.kind === 'transition')).toHaveLength(1);
    expect((await enqueue({ event_action: 'acknowledge', dedup_key: 'pd-never-triggered' })).status).toBe(202);
    // Nor with a payload: PagerDuty drops an acknowledge of an alert it does not hold.
    const withPayload = { summary: 'never raised', source: 'mq-9', severity: 'critical' };
    expect((await enqueue({ event_action: 'acknowledge', dedup_key: 'pd-never-triggered', payload: withPayload })).status).toBe(202);
    expect((await alerts('all')).alerts.map((a) => a.fingerprint)).not.toContain('pd-never-triggered');
    // An acknowledge after the resolve leaves the alert resolved (it used to fire it again).
    expect((await enqueue({ event_action: 'resolve', dedup_key: 'pd-ack' })).status).toBe(202);
    expect((await enqueue({ event_action: 'acknowledge', dedup_key: 'pd-ack' })).status).toBe(202);
    expect((await alerts('all')).alerts.find((a) => a.fingerprint === 'pd-ack')).toMatchObject({ status: 'resolved' });
    // Nor does it acknowledge the incident of an alert that resolved (its auto-resolve hold still runs).
    await enqueue({ event_action: 'trigger', dedup_key: 'pd-ack-2', payload: { summary: 'queue slow', source: 'mq-2', severity: 'warning' } });
    expect((await enqueue({ event_action: 'resolve', dedup_key: 'pd-ack-2' })).status).toBe(202);
    expect((await enqueue({ event_action: 'acknowledge', dedup_key: 'pd-ack-2' })).status).toBe(202);
    expect((await incidentOf('pd-ack-2'))?.status).toBe('new');
    // Nor the incident of another sender's alert whose key it names.
    expect((await post('/api/v1/alerts', JSON.stringify([{ labels: { alertname: 'NotPagerDuty' }, severity: 'critical', status: 'firing', fingerprint: 'not-pd-1', startsAt: new Date(clock.nowMs()).toISOString() }]))).status).toBe(200);
    expect((await enqueue({ event_action: 'acknowledge', dedup_key: 'not-pd-1', client: 'intruder' })).status).toBe(202);
    expect((await incidentOf('not-pd-1'))?.status).toBe('new');
  });
});
