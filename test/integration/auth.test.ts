import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrapeSamples } from '../helpers/metric-names.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

// server.auth over real HTTP: senders with a write token, a dashboard with a read token, an
// operator who may act; the PagerDuty route taking the token as routing_key.
const SENDER = 'sender-token-0123456789';
const READER = 'reader-token-0123456789';
const OPERATOR = 'operator-token-0123456789';
let vigil: TestVigil;

beforeAll(async () => {
  vigil = await startTestVigil({
    overrides: (c) => {
      c.server.auth = {
        tokens: [
          { name: 'prometheus', token: SENDER, scopes: ['write'] },
          { name: 'grafana', tokenSha256: createHash('sha256').update(READER).digest('hex'), scopes: ['read'] },
          { name: 'alice', token: OPERATOR, scopes: ['read', 'operate'] },
        ],
      };
    },
  });
});
afterAll(async () => {
  await vigil?.stop();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const request = (method: string, path: string, headers: Record<string, string> = {}, body?: string) => fetch(`${vigil.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
const alertBody = JSON.stringify([{ labels: { alertname: 'AuthProbe', instance: 'web-1:9100' }, startsAt: new Date().toISOString() }]);
const json = { 'content-type': 'application/json' };

describe('server.auth', () => {
  it('leaves probes, /metrics and the API document open', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/docs/json']) expect((await request('GET', path)).status, path).toBe(200);
  });

  it('answers 401 with a challenge, naming the scope, when no token or an unknown one is given', async () => {
    const missing = await request('POST', '/api/v2/alerts', json, alertBody);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer realm="vigil"/);
    expect(await missing.json()).toEqual({ error: 'AUTH_REQUIRED', detail: expect.stringContaining('scope write') as unknown });
    const unknown = await request('GET', '/api/v1/incidents', bearer('not-a-token-of-vigil'));
    expect(unknown.status).toBe(401);
    // Nothing was stored from the refused post.
    expect(await (await request('GET', '/api/v1/alerts', bearer(READER))).json()).toMatchObject({ total: 0 });
  });

  it("takes senders' tokens as Bearer, Influx's Token and Basic's password", async () => {
    expect((await request('POST', '/api/v2/alerts', { ...json, ...bearer(SENDER) }, alertBody)).status).toBe(200);
    const seconds = Math.floor(Date.now() / 1000);
    expect((await request('POST', '/api/v2/write?precision=s', { authorization: `Token ${SENDER}` }, `auth_probe value=1 ${seconds}`)).status).toBe(204);
    const basic = `Basic ${Buffer.from(`prometheus:${SENDER}`).toString('base64')}`;
    expect((await request('POST', '/write?precision=s', { authorization: basic }, `auth_probe value=2 ${seconds}`)).status).toBe(204);
  });

  it('answers 403 naming the scopes when a token lacks the one a route needs', async () => {
    const forbidden = await request('GET', '/api/v1/alerts', bearer(SENDER));
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toEqual({ error: 'AUTH_FORBIDDEN', detail: 'token prometheus has scopes write; GET /api/v1/alerts needs read' });
    expect((await request('PUT', '/api/v1/services', { ...json, ...bearer(READER) }, '{"services":[]}')).status).toBe(403);
    const acting = await request('POST', '/api/v1/incidents/no-such/acknowledge', bearer(READER));
    expect(acting.status).toBe(403);
    // The path asked for, not the route's pattern.
    expect(((await acting.json()) as { detail: string }).detail).toBe('token grafana has scopes read; POST /api/v1/incidents/no-such/acknowledge needs operate');
    expect((await request('POST', '/api/v2/alerts', { ...json, ...bearer(READER) }, alertBody)).status).toBe(403);
  });

  it('lets each token do what its scopes allow (a hashed one too)', async () => {
    expect(await (await request('GET', '/api/v1/alerts', bearer(READER))).json()).toMatchObject({ total: 1 });
    const form = { 'content-type': 'application/x-www-form-urlencoded', ...bearer(READER) };
    expect((await request('POST', '/api/v1/series', form, 'match[]=auth_probe_value')).status).toBe(200);
    // The operator reaches the action: 404 is the incident's, not the door's.
    expect((await request('POST', '/api/v1/incidents/no-such/acknowledge', bearer(OPERATOR))).status).toBe(404);
  });

  it('takes the token as routing_key on the PagerDuty route, as PagerDuty senders send it', async () => {
    const event = (routingKey: string) => JSON.stringify({ routing_key: routingKey, event_action: 'trigger', dedup_key: 'auth-pd', payload: { summary: 'disk full', source: 'db-1', severity: 'critical' } });
    expect((await request('POST', '/v2/enqueue', json, event(SENDER))).status).toBe(202);
    expect((await request('POST', '/v2/enqueue', json, event('wrong-routing-key-xyz'))).status).toBe(401);
    expect((await request('POST', '/v2/enqueue', json, '{"event_action":"trigger"}')).status).toBe(401);
    expect((await request('POST', '/v2/enqueue', { ...json, ...bearer(SENDER) }, event('any-key-given-the-header'))).status).toBe(202);
  });

  it('judges a header given on the PagerDuty route as given, and reads a body without one only when small and plain', async () => {
    const event = JSON.stringify({ routing_key: SENDER, event_action: 'trigger', dedup_key: 'auth-pd-2', payload: { summary: 'x', source: 'db-1', severity: 'info' } });
    // An unreadable header is no credential, whatever the routing_key says.
    for (const authorization of ['Bearer', 'Digest abc', '', `Basic ${Buffer.from('no-colon').toString('base64')}`]) {
      expect((await request('POST', '/v2/enqueue', { ...json, authorization }, event)).status, authorization).toBe(401);
    }
    expect((await request('POST', '/v2/enqueue', { ...json, 'content-encoding': 'gzip' }, event)).status).toBe(401);
    const big = JSON.stringify({ routing_key: SENDER, event_action: 'trigger', dedup_key: 'auth-pd-3', payload: { summary: 'x'.repeat(600_000), source: 'db-1', severity: 'info' } });
    expect((await request('POST', '/v2/enqueue', json, big)).status).toBe(401);
    // Refused before the route's own content-type check: an unverified sender learns nothing more.
    expect((await request('POST', '/v2/enqueue', { 'content-type': 'text/plain' }, event)).status).toBe(401);
  });

  it('counts refusals by scope and reason, and refused alert posts as unauthorized', async () => {
    const samples = await scrapeSamples(`${vigil.url}/metrics`);
    const value = (sample: string) => samples.get(sample);
    // Missing: the first alert post, a PagerDuty event without routing_key, 'Bearer' and
    // 'Digest' and '' and Basic without a password, gzip, too big, text/plain.
    expect(value('vigil_auth_refused_total{reason="missing",scope="write"}')).toBe(9);
    expect(value('vigil_auth_refused_total{reason="invalid",scope="write"}')).toBe(1);
    expect(value('vigil_auth_refused_total{reason="invalid",scope="read"}')).toBe(1);
    expect(value('vigil_auth_refused_total{reason="forbidden",scope="write"}')).toBe(1);
    expect(value('vigil_auth_refused_total{reason="forbidden",scope="read"}')).toBe(1);
    expect(value('vigil_auth_refused_total{reason="forbidden",scope="operate"}')).toBe(2);
    expect(value('vigil_alert_requests_total{outcome="unauthorized",source="prometheus"}')).toBe(2);
    expect(value('vigil_alert_requests_total{outcome="unauthorized",source="pagerduty"}')).toBe(9);
  });
});
