import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { startReceiver, type HttpReceiver } from '../helpers/http-receiver.js';
import { until } from '../helpers/until.js';

// A real HTTP receiver standing in for the teams' endpoints: one healthy, one failing twice, one hanging.
const received: { path: string; deliveryId: string | undefined; body: unknown }[] = [];
let flakyCalls = 0;
let receiver: HttpReceiver;
let vigil: TestVigil;

beforeAll(async () => {
  receiver = await startReceiver(({ path, headers, body }, response) => {
    if (path === '/slow') return; // never answers: Vigil's timeout must end it
    if (path === '/flaky' && ++flakyCalls <= 2) {
      response.writeHead(500).end();
      return;
    }
    received.push({ path, deliveryId: headers['x-vigil-delivery'] as string | undefined, body: JSON.parse(body) as unknown });
    response.writeHead(200).end('ok');
  });
  const base = receiver.url;
  vigil = await startTestVigil({
    overrides: (c) => {
      c.incidents.autoResolveHoldMs = 0;
      c.notifications = {
        routes: [
          { name: 'ops-json', url: `${base}/ok`, format: 'json', kinds: ['created', 'resolved'] },
          { name: 'ops-slack', url: `${base}/flaky`, format: 'slack', kinds: ['created'] },
          { name: 'black-hole', url: `${base}/slow`, format: 'json', kinds: ['created'] },
          { name: 'people-json', url: `${base}/people`, format: 'json', kinds: ['acknowledged', 'priority_changed', 'reopened'] },
          { name: 'people-slack', url: `${base}/people-slack`, format: 'slack', kinds: ['acknowledged', 'reopened'] },
        ],
        incidentUrl: 'https://vigil.example.net/api/v1/incidents/{id}',
        maxAttempts: 3,
        retryBaseDelayMs: 50,
        timeoutMs: 500,
      };
    },
  });
});
afterAll(async () => {
  await vigil?.stop();
  await receiver?.close();
});


describe('incident notifications', () => {
  it('delivers new and resolved incidents per route, retries failures with backoff, and never slows intake', async () => {
    const started = Date.now();
    const response = await fetch(`${vigil.url}/api/v1/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels: { alertname: 'DiskFull', instance: 'db-1' }, annotations: { summary: '/var full on db-1' }, status: 'firing', severity: 'critical', startsAt: new Date().toISOString() }]),
    });
    expect(response.status).toBe(200);
    // The hanging endpoint is not awaited by intake.
    expect(Date.now() - started).toBeLessThan(400);

    const created = await until('the JSON route', async () => received.find((r) => r.path === '/ok'));
    expect(created.body).toMatchObject({ kind: 'created', incident: { title: '/var full on db-1', status: 'new', priority: 'P3', severity: 'critical', escalationLevel: 0 } });
    // A stable id per delivery, in a header and the JSON body, for receivers to dedup on.
    expect(created.deliveryId).toMatch(/^[0-9a-f-]{36}$/);
    expect((created.body as { deliveryId: string }).deliveryId).toBe(created.deliveryId);
    const slack = await until('the Slack route after two failures', async () => received.find((r) => r.path === '/flaky'));
    expect(slack.body).toMatchObject({ text: expect.stringMatching(/^\[P3\] New: \/var full on db-1/) });

    await fetch(`${vigil.url}/api/v1/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels: { alertname: 'DiskFull', instance: 'db-1' }, status: 'resolved', startsAt: new Date().toISOString() }]),
    });
    const resolved = await until('the resolved notice', async () => received.find((r) => r.path === '/ok' && (r.body as { kind: string }).kind === 'resolved'));
    expect(resolved.body).toMatchObject({ incident: { status: 'resolved' } });

    // The log: flaky failed twice then delivered; the black hole timed out on every attempt.
    const log = await until('the delivery log', async () => {
      const page = (await (await fetch(`${vigil.url}/api/v1/notifications?limit=100`)).json()) as { attempts: { route: string; attempt: number; outcome: string; error: string }[] };
      return page.attempts.filter((a) => a.route === 'black-hole').length === 3 ? page.attempts : undefined;
    });
    const byRoute = (route: string) => log.filter((a) => a.route === route).sort((a, b) => a.attempt - b.attempt).map((a) => a.outcome);
    expect(byRoute('ops-slack')).toEqual(['retrying', 'retrying', 'delivered']);
    expect(byRoute('black-hole')).toEqual(['retrying', 'retrying', 'failed']);
    expect(byRoute('ops-json')).toEqual(['delivered', 'delivered']);
    // The same retries under one delivery id each (the flaky route's three attempts share one).
    expect(new Set(log.filter((a) => a.route === 'ops-slack').map((a) => (a as unknown as { deliveryId: string }).deliveryId)).size).toBe(1);

    // The queue's current state per delivery.
    const deliveries = (await (await fetch(`${vigil.url}/api/v1/notifications/deliveries?limit=100`)).json()) as { deliveries: { route: string; state: string; attempts: number }[]; total: number };
    expect(deliveries.total).toBe(4);
    expect(deliveries.deliveries.map((d) => `${d.route}:${d.state}:${d.attempts}`).sort()).toEqual([
      'black-hole:failed:3',
      'ops-json:delivered:1',
      'ops-json:delivered:1',
      'ops-slack:delivered:3',
    ]);
    const failed = (await (await fetch(`${vigil.url}/api/v1/notifications/deliveries?state=failed`)).json()) as { deliveries: { route: string }[] };
    expect(failed.deliveries.map((d) => d.route)).toEqual(['black-hole']);
    const bad = await fetch(`${vigil.url}/api/v1/notifications/deliveries?state=lost`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'REQUEST_INVALID', detail: expect.stringContaining('pending, delivered, failed') as unknown });
  });

  it('tells who acknowledged, resolved and reopened, the priority before a change, and the incident as the API shows it', async () => {
    const post = (path: string, body: unknown) => fetch(`${vigil.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const certAlert = (severity: string) => [{ labels: { alertname: 'CertExpiry', instance: 'lb-1' }, status: 'firing', severity, startsAt: new Date().toISOString() }];
    const people = (kind: string) => until(`the ${kind} notice`, async () => received.find((r) => r.path === '/people' && (r.body as { kind: string }).kind === kind)?.body as Record<string, unknown> | undefined);
    expect((await post('/api/v1/alerts', certAlert('warning'))).status).toBe(200);
    const created = await until('the created notice', async () => received.find((r) => r.path === '/ok' && (r.body as { incident: { title: string } }).incident.title.startsWith('CertExpiry')));
    const { id, title } = (created.body as { incident: { id: string; title: string } }).incident;
    // The member reports a worse severity: the priority moves up, and the notice says from what.
    await post('/api/v1/alerts', certAlert('critical'));
    expect(await people('priority_changed')).toMatchObject({ actor: 'vigil', previousPriority: 'P4', incident: { id, priority: 'P3' } });

    expect((await post(`/api/v1/incidents/${id}/acknowledge`, { actor: 'alice' })).status).toBe(200);
    const acknowledged = await people('acknowledged');
    expect(acknowledged).toMatchObject({ actor: 'alice', incident: { id, status: 'acknowledged', services: [], cis: [] } });
    // The incident in a notice is the API's Incident shape, with the same fields.
    const shown = (await (await fetch(`${vigil.url}/api/v1/incidents/${id}`)).json()) as Record<string, unknown>;
    expect(Object.keys(acknowledged.incident as object).sort()).toEqual(Object.keys(shown).filter((k) => k !== 'alerts' && k !== 'timeline').sort());
    expect((acknowledged.incident as { acknowledgedAt: string }).acknowledgedAt).toBe(shown['acknowledgedAt']);

    expect((await post(`/api/v1/incidents/${id}/resolve`, { actor: 'alice', note: 'certificate renewed' })).status).toBe(200);
    const resolved = await until('the resolved notice', async () => received.find((r) => r.path === '/ok' && (r.body as { kind: string; incident: { id: string } }).kind === 'resolved' && (r.body as { incident: { id: string } }).incident.id === id));
    expect(resolved.body).toMatchObject({ actor: 'alice', note: 'certificate renewed', incident: { status: 'resolved' } });

    const reopenedAt = ((await (await post(`/api/v1/incidents/${id}/reopen`, { actor: 'bob', note: 'still expired on lb-2' })).json()) as { reopenedAt: string }).reopenedAt;
    // When the change happened: a delivery may go out much later, after retries.
    expect(await people('reopened')).toMatchObject({ at: reopenedAt });
    expect(await people('reopened')).toMatchObject({ actor: 'bob', note: 'still expired on lb-2', url: `https://vigil.example.net/api/v1/incidents/${id}`, incident: { id, status: 'reopened' } });
    const slack = await until('the Slack reopened notice', async () => received.find((r) => r.path === '/people-slack' && (r.body as { text: string }).text.includes('Reopened')));
    // Slack's link syntax on the id, to notifications.incidentUrl.
    const link = `<https://vigil.example.net/api/v1/incidents/${id}|${id}>`;
    expect((slack.body as { text: string }).text).toBe(`[P3] Reopened by bob: ${title} (${link})`);
    expect(received.filter((r) => r.path === '/people-slack').map((r) => (r.body as { text: string }).text)).toEqual([
      `[P3] Acknowledged by alice: ${title} (${link})`,
      `[P3] Reopened by bob: ${title} (${link})`,
    ]);
  });
});
