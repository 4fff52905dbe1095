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
          { name: 'payments-oncall', url: `${base}/payments`, format: 'json', kinds: ['created'] },
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
});
