import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type HttpReceiver } from '../helpers/http-receiver.js';
import { until } from '../helpers/until.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

// Routes per service (the catalog's notificationRoutes), a redirecting endpoint, and Slack text.
const received: { method: string; path: string; body: string }[] = [];
let receiver: HttpReceiver;
let vigil: TestVigil;

beforeAll(async () => {
  receiver = await startReceiver(({ method, path, body }, response) => {
    received.push({ method, path, body });
    if (path === '/moved') response.writeHead(301, { location: '/elsewhere' }).end();
    else response.writeHead(200).end('ok');
  });
  const base = receiver.url;
  vigil = await startTestVigil({
    overrides: (c) => {
      c.notifications = {
        routes: [
          { name: 'everyone', url: `${base}/everyone`, format: 'slack', kinds: ['created'] },
          { name: 'payments-oncall', url: `${base}/payments`, format: 'json', kinds: ['created', 'priority_changed'] },
          { name: 'moved', url: `${base}/moved`, format: 'json', kinds: ['created'] },
        ],
        maxAttempts: 1,
        retryBaseDelayMs: 50,
        timeoutMs: 1_000,
      };
    },
  });
  const put = await fetch(`${vigil.url}/api/v1/services`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      configurationItems: [
        { id: 'pay-db', type: 'database' },
        { id: 'web-1', type: 'host' },
      ],
      services: [
        { id: 'pay', name: 'Payments', criticality: 'high', ownerTeam: 'payments', dependsOn: ['pay-db'], notificationRoutes: ['payments-oncall'] },
        { id: 'shop', name: 'Shop', criticality: 'medium', ownerTeam: 'web', dependsOn: ['web-1'] },
      ],
    }),
  });
  expect(put.status).toBe(200);
});
afterAll(async () => {
  await vigil?.stop();
  await receiver?.close();
});

const fire = (alertname: string, instance: string, summary: string) =>
  fetch(`${vigil.url}/api/v1/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([{ labels: { alertname, instance }, annotations: { summary }, status: 'firing', severity: 'critical', startsAt: new Date().toISOString() }]),
  });

describe('notification routing', () => {
  it('sends a service-named route only its services\' incidents, and unnamed routes every incident', async () => {
    expect((await fire('PayDown', 'pay-db:5432', 'payments database down')).status).toBe(200);
    expect((await fire('ShopSlow', 'web-1:9100', 'shop <!channel> & slow')).status).toBe(200);
    await until('both incidents on the catch-all route', async () => (received.filter((r) => r.path === '/everyone').length === 2 ? true : undefined));
    // Give a wrong delivery to payments-oncall the same time to show up.
    await new Promise((r) => setTimeout(r, 500));
    const payments = received.filter((r) => r.path === '/payments').map((r) => (JSON.parse(r.body) as { incident: { title: string } }).incident.title);
    expect(payments).toEqual(['payments database down']);
  });

  it('refuses a catalog naming a route that is not configured, and keeps the one in force', async () => {
    const put = await fetch(`${vigil.url}/api/v1/services`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        configurationItems: [{ id: 'pay-db', type: 'database' }],
        services: [{ id: 'pay', name: 'Payments', criticality: 'high', ownerTeam: 'payments', dependsOn: ['pay-db'], notificationRoutes: ['payments-oncal'] }],
      }),
    });
    expect(put.status).toBe(400);
    expect(JSON.stringify(await put.json())).toContain('services[0].notificationRoutes[0]: no notification route \\"payments-oncal\\" (configured: everyone, payments-oncall, moved)');
    const services = (await (await fetch(`${vigil.url}/api/v1/services`)).json()) as { services: { id: string; notificationRoutes?: string[] }[] };
    expect(services.services.find((s) => s.id === 'pay')?.notificationRoutes).toEqual(['payments-oncall']);
    expect(services.services.map((s) => s.id).sort()).toEqual(['pay', 'shop']);
  });

  it('escapes the sender\'s text in Slack messages', () => {
    const shop = received.filter((r) => r.path === '/everyone').map((r) => (JSON.parse(r.body) as { text: string }).text).find((t) => t.includes('shop'));
    expect(shop).toMatch(/New: shop &lt;!channel&gt; &amp; slow/);
  });

  it('does not follow a redirect (it would resend the POST as a bodiless GET) and logs it as failed', async () => {
    const log = await until('the redirect attempts', async () => {
      const page = (await (await fetch(`${vigil.url}/api/v1/notifications?limit=100`)).json()) as { attempts: { route: string; outcome: string; error: string }[] };
      const moved = page.attempts.filter((a) => a.route === 'moved');
      return moved.length === 2 ? moved : undefined;
    });
    expect(log.every((a) => a.outcome === 'failed' && a.error === 'HTTP 301 redirect to /elsewhere, not followed (give the final URL)')).toBe(true);
    expect(received.some((r) => r.path === '/elsewhere')).toBe(false);
  });

  it('tells the routes of a service that joins an open incident, once, and no route twice', async () => {
    expect((await fire('Outage', 'web-1:9100', 'checkout outage')).status).toBe(200);
    // Both catch-all routes (one answers with a redirect) have had it before counting starts.
    await until('the new incident on the catch-all routes', async () =>
      received.filter((r) => (r.path === '/everyone' || r.path === '/moved') && r.body.includes('checkout outage')).length === 2 ? true : undefined,
    );
    const before = received.length;
    // Same group (alertname), on the payments database: the incident now affects Payments too.
    expect((await fire('Outage', 'pay-db:5432', 'checkout outage')).status).toBe(200);
    const told = await until('payments-oncall told', async () => received.find((r) => r.path === '/payments' && r.body.includes('checkout outage')));
    // One notice: the priority the high-criticality service raised in the same write is not a second one.
    expect(JSON.parse(told.body)).toMatchObject({ kind: 'created', newServices: ['pay'], incident: { services: ['shop', 'pay'], priority: 'P2' } });
    // A further alert of the same services tells nobody; the catch-all route heard of it already.
    expect((await fire('Outage', 'pay-db:5433', 'checkout outage')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect(received.slice(before).filter((r) => r.body.includes('checkout outage')).map((r) => r.path)).toEqual(['/payments']);
    const incidents = ((await (await fetch(`${vigil.url}/api/v1/incidents?status=open`)).json()) as { incidents: { id: string; title: string }[] }).incidents;
    const detail = (await (await fetch(`${vigil.url}/api/v1/incidents/${incidents.find((i) => i.title === 'checkout outage')!.id}`)).json()) as { timeline: { kind: string; services?: string[] }[] };
    expect(detail.timeline.filter((e) => e.kind === 'services_joined')).toEqual([expect.objectContaining({ services: ['pay'] })]);

    // A new incident opened with alerts of both services in one body: one `created`, no services_joined.
    const both = await fetch(`${vigil.url}/api/v1/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(['web-1:9100', 'pay-db:5432'].map((instance) => ({ labels: { alertname: 'Twin', instance }, annotations: { summary: 'twin outage' }, status: 'firing', severity: 'critical', startsAt: new Date().toISOString() }))),
    });
    expect(both.status).toBe(200);
    await until('payments-oncall told of the twin outage', async () => received.find((r) => r.path === '/payments' && r.body.includes('twin outage')));
    const twin = ((await (await fetch(`${vigil.url}/api/v1/incidents?status=open`)).json()) as { incidents: { id: string; title: string }[] }).incidents.find((i) => i.title === 'twin outage')!;
    const twinDetail = (await (await fetch(`${vigil.url}/api/v1/incidents/${twin.id}`)).json()) as { timeline: { kind: string }[] };
    expect(twinDetail.timeline.map((e) => e.kind).filter((k) => k !== 'priority_changed')).toEqual(['created', 'alert_joined', 'alert_joined']);
    await new Promise((r) => setTimeout(r, 300));
    expect(received.filter((r) => r.path === '/payments' && r.body.includes('twin outage')).map((r) => (JSON.parse(r.body) as { kind: string }).kind)).toEqual(['created']);
  });
});
