import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixedClock } from '../../src/shared/clock.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

const clock = createFixedClock(Date.parse('2026-11-23T09:00:00Z'));
let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startTestVigil({
    clock,
    overrides: (c) => {
      c.incidents.autoResolveHoldMs = 0;
      c.incidents.grouping = { name: 'by-alertname', groupBy: ['alertname'], windowMs: 300_000, minFiringAlerts: 1 };
    },
  });
});
afterAll(async () => {
  await vigil?.stop();
});

interface IncidentJson {
  id: string;
  title: string;
  status: string;
  priority: string;
  alertCount: number;
  responseDueAt: string;
  resolutionDueAt: string;
  relatedIncidentId?: string;
  timeline?: { kind: string; actor: string; action?: string; from?: string | null; to?: string | null }[];
  alerts?: { fingerprint: string; labels: Record<string, string>; status: string }[];
}

const post = (path: string, body?: unknown) =>
  fetch(`${vigil.url}${path}`, body === undefined ? { method: 'POST' } : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

function alert(alertname: string, instance: string, status: 'firing' | 'resolved', severity = 'critical') {
  return { labels: { alertname, instance, severity }, annotations: { summary: `${alertname} on ${instance}` }, status, startsAt: new Date(clock.nowMs()).toISOString() };
}

async function incidents(status = 'all'): Promise<IncidentJson[]> {
  const response = await fetch(`${vigil.url}/api/v1/incidents?status=${status}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { incidents: IncidentJson[] }).incidents;
}

describe('alerts become incidents', () => {
  it('groups firing alerts by alertname into one incident with priority and SLA due times', async () => {
    expect((await post('/api/v1/alerts', [alert('HostDown', 'web-1', 'firing'), alert('HostDown', 'web-2', 'firing')])).status).toBe(200);
    expect((await post('/api/v1/alerts', [alert('HighLatency', 'api-1', 'firing', 'warning')])).status).toBe(200);
    const open = await incidents('open');
    const hostDown = open.find((i) => i.title.startsWith('HostDown'));
    expect(hostDown).toMatchObject({ status: 'new', alertCount: 2, priority: 'P3' });
    // P3 targets: respond within 4 h, resolve within 24 h (24x7 until the catalog brings calendars).
    expect(Date.parse(hostDown!.responseDueAt) - clock.nowMs()).toBe(4 * 3_600_000);
    expect(Date.parse(hostDown!.resolutionDueAt) - clock.nowMs()).toBe(24 * 3_600_000);
    expect(open.find((i) => i.title.startsWith('HighLatency'))).toMatchObject({ alertCount: 1, priority: 'P4' });
    // A re-send joins nothing new.
    await post('/api/v1/alerts', [alert('HostDown', 'web-1', 'firing')]);
    expect((await incidents('open')).find((i) => i.id === hostDown!.id)?.alertCount).toBe(2);
  });

  it('follows the lifecycle, refuses illegal transitions with the allowed ones, and records the timeline', async () => {
    const [incident] = (await incidents('open')).filter((i) => i.title.startsWith('HighLatency'));
    const closeEarly = await post(`/api/v1/incidents/${incident!.id}/close`);
    expect(closeEarly.status).toBe(409);
    expect(((await closeEarly.json()) as { detail: string }).detail).toMatch(/allowed: .*acknowledge/);
    clock.advance(60_000);
    expect((await post(`/api/v1/incidents/${incident!.id}/acknowledge`, { actor: 'alice' })).status).toBe(200);
    expect((await post(`/api/v1/incidents/${incident!.id}/assign`, { assignee: 'alice' })).status).toBe(200);
    expect((await post(`/api/v1/incidents/${incident!.id}/start`)).status).toBe(200);
    expect((await post(`/api/v1/incidents/${incident!.id}/comments`, { text: 'looking at the load balancer', author: 'alice' })).status).toBe(200);
    // `actor`, as the other actions take it, names the author too.
    expect((await post(`/api/v1/incidents/${incident!.id}/comments`, { text: 'lb restarted', actor: 'bob' })).status).toBe(200);
    expect((await post(`/api/v1/incidents/${incident!.id}/comments`, { text: 'x', actor: 'bob', author: 'eve' })).status).toBe(400);
    const resolved = await post(`/api/v1/incidents/${incident!.id}/resolve`, { note: 'restarted lb' });
    expect(await resolved.json()).toMatchObject({ status: 'resolved' });
    expect((await post(`/api/v1/incidents/${incident!.id}/close`)).status).toBe(200);
    expect((await post(`/api/v1/incidents/${incident!.id}/reopen`)).status).toBe(409);
    const detail = (await (await fetch(`${vigil.url}/api/v1/incidents/${incident!.id}`)).json()) as IncidentJson & { acknowledgedAt: string; assignee: string };
    expect(detail).toMatchObject({ status: 'closed', assignee: 'alice', acknowledgedAt: new Date(clock.nowMs()).toISOString() });
    expect(detail.timeline!.map((e) => e.kind)).toEqual(['created', 'alert_joined', 'transition', 'assigned', 'transition', 'comment', 'comment', 'transition', 'transition']);
    expect(detail.timeline!.filter((e) => e.kind === 'comment').map((e) => e.actor)).toEqual(['alice', 'bob']);
    expect(detail.alerts).toHaveLength(1);
    expect((await post(`/api/v1/incidents/${incident!.id}/explode`)).status).toBe(404);
    expect((await post(`/api/v1/incidents/${incident!.id}/assign`, { assignee: 'bob', colour: 'red' })).status).toBe(400);
    expect((await fetch(`${vigil.url}/api/v1/incidents/no-such-id`)).status).toBe(404);
  });

  it('unassigns with {"assignee": null}, on the timeline, once', async () => {
    const hostDown = (await incidents('open')).find((i) => i.title.startsWith('HostDown'))!;
    const assign = (body: unknown) => post(`/api/v1/incidents/${hostDown.id}/assign`, body);
    expect(await (await assign({ assignee: 'bob', actor: 'alice' })).json()).toMatchObject({ assignee: 'bob' });
    const unassigned = await assign({ assignee: null, actor: 'bob' });
    expect(unassigned.status).toBe(200);
    expect(await unassigned.json()).not.toHaveProperty('assignee');
    // A repeat (a client's retry) changes nothing and records nothing.
    expect((await assign({ assignee: null })).status).toBe(200);
    for (const bad of [{ assignee: '' }, { assignee: 5 }, {}, { assignee: null, colour: 'red' }]) expect((await assign(bad)).status, JSON.stringify(bad)).toBe(400);
    const detail = (await (await fetch(`${vigil.url}/api/v1/incidents/${hostDown.id}`)).json()) as IncidentJson;
    expect(detail).not.toHaveProperty('assignee');
    expect(detail.timeline!.filter((e) => e.kind === 'assigned').map((e) => [e.actor, e.from ?? null, e.to ?? null])).toEqual([
      ['alice', null, 'bob'],
      ['bob', 'bob', null],
    ]);
  });

  it('auto-resolves when every alert resolved, and a recurrence opens a new incident linked to it', async () => {
    const hostDown = (await incidents('open')).find((i) => i.title.startsWith('HostDown'))!;
    await post('/api/v1/alerts', [alert('HostDown', 'web-1', 'resolved')]);
    expect((await incidents('open')).some((i) => i.id === hostDown.id)).toBe(true);
    await post('/api/v1/alerts', [alert('HostDown', 'web-2', 'resolved')]);
    const after = (await incidents('all')).find((i) => i.id === hostDown.id);
    expect(after?.status).toBe('resolved');
    clock.advance(600_000);
    await post('/api/v1/alerts', [alert('HostDown', 'web-1', 'firing')]);
    const recurrence = (await incidents('open')).find((i) => i.title.startsWith('HostDown'));
    expect(recurrence?.id).not.toBe(hostDown.id);
    expect(recurrence?.relatedIncidentId).toBe(hostDown.id);
  });

  it('reports MTTA and MTTR per service and priority', async () => {
    const from = new Date(Date.parse('2026-11-23T08:00:00Z')).toISOString();
    const to = new Date(clock.nowMs() + 3_600_000).toISOString();
    const report = (await (await fetch(`${vigil.url}/api/v1/reports/incidents?from=${from}&to=${to}`)).json()) as {
      statistics: { serviceId: string; priority: string; count: number; mttaMs: number | null; mttrMs: number | null }[];
    };
    // HighLatency (P4): created at 09:00, acknowledged and resolved at 09:01.
    expect(report.statistics.find((r) => r.priority === 'P4')).toMatchObject({ serviceId: '(none)', count: 1, mttaMs: 60_000, mttrMs: 60_000 });
    expect((await fetch(`${vigil.url}/api/v1/reports/incidents?from=${to}&to=${from}`)).status).toBe(400);
  });

  it('lists open and resolved incidents from memory exactly as the stored rows list them', async () => {
    // `all` reads ClickHouse; `open` and `resolved` are served from the core's memory.
    const stored = ((await (await fetch(`${vigil.url}/api/v1/incidents?status=all&limit=1000`)).json()) as { incidents: IncidentJson[] }).incidents;
    const openStatuses = ['new', 'acknowledged', 'in_progress', 'reopened'];
    const views: [string, (i: IncidentJson) => boolean][] = [
      ['status=open', (i) => openStatuses.includes(i.status)],
      ['status=resolved', (i) => i.status === 'resolved'],
      ['status=open&priority=P2', (i) => openStatuses.includes(i.status) && i.priority === 'P2'],
      ['status=resolved&limit=1&offset=1', (i) => i.status === 'resolved'],
    ];
    expect(stored.some((i) => i.status === 'resolved') && stored.some((i) => openStatuses.includes(i.status))).toBe(true);
    for (const [query, keep] of views) {
      const response = (await (await fetch(`${vigil.url}/api/v1/incidents?${query}`)).json()) as { incidents: IncidentJson[]; total: number };
      const expected = stored.filter(keep);
      const paging = /limit=(\d+)&offset=(\d+)/.exec(query);
      const page = paging ? expected.slice(Number(paging[2]), Number(paging[2]) + Number(paging[1])) : expected;
      expect(response.total, query).toBe(expected.length);
      expect(response.incidents, query).toEqual(page);
    }
  });

  it('filters and pages the list', async () => {
    const all = await fetch(`${vigil.url}/api/v1/incidents?status=all&limit=1`);
    const body = (await all.json()) as { incidents: unknown[]; total: number };
    expect(body.incidents).toHaveLength(1);
    expect(body.total).toBe(3);
    expect((await fetch(`${vigil.url}/api/v1/incidents?priority=P9`)).status).toBe(400);
    // A repeated parameter would reach the query as a list and match nothing: refused.
    const repeated = await fetch(`${vigil.url}/api/v1/incidents?service=a&service=b`);
    expect(repeated.status).toBe(400);
    expect(((await repeated.json()) as { detail: string }).detail).toBe('query parameter service is given 2 times; give it once');
    expect((await fetch(`${vigil.url}/api/v1/incidents?status=closed`)).ok).toBe(true);
  });

  it('answers 409, not 404, for actions on a closed incident the core no longer holds', async () => {
    await post('/api/v1/alerts', [alert('ClosedCase', 'mq-1', 'firing')]);
    const incident = (await incidents('open')).find((i) => i.title.startsWith('ClosedCase'))!;
    expect((await post(`/api/v1/incidents/${incident.id}/resolve`)).status).toBe(200);
    expect((await post(`/api/v1/incidents/${incident.id}/close`)).status).toBe(200);
    // Closed is final, also before the sweep has let go of it.
    const early = await post(`/api/v1/incidents/${incident.id}/comments`, { text: 'early note', author: 'bob' });
    expect(early.status).toBe(409);
    expect(((await early.json()) as { detail: string }).detail).toBe('cannot comment on an incident that is closed; allowed: none');
    expect((await post(`/api/v1/incidents/${incident.id}/assign`, { assignee: 'bob' })).status).toBe(409);
    // The sweep (every second) lets go of closed incidents.
    await new Promise((r) => setTimeout(r, 1_500));
    const reopen = await post(`/api/v1/incidents/${incident.id}/reopen`);
    expect(reopen.status).toBe(409);
    expect(((await reopen.json()) as { detail: string }).detail).toBe('cannot reopen an incident that is closed; allowed: none');
    expect((await post(`/api/v1/incidents/${incident.id}/comments`, { text: 'late note', author: 'bob' })).status).toBe(409);
    expect((await fetch(`${vigil.url}/api/v1/incidents/${incident.id}`)).status).toBe(200);
    expect((await post('/api/v1/incidents/00000000-0000-0000-0000-000000000000/acknowledge')).status).toBe(404);
  });

  it('keeps an incident a person reopened after auto-resolve open, until its alerts fire and resolve again', async () => {
    await post('/api/v1/alerts', [alert('ReopenCase', 'db-1', 'firing')]);
    const incident = (await incidents('open')).find((i) => i.title.startsWith('ReopenCase'))!;
    await post('/api/v1/alerts', [alert('ReopenCase', 'db-1', 'resolved')]);
    expect((await incidents('all')).find((i) => i.id === incident.id)?.status).toBe('resolved');
    expect((await post(`/api/v1/incidents/${incident.id}/reopen`, { actor: 'bob' })).status).toBe(200);
    // The old resolve's hold has long passed; the sweep (every second) must not resolve it again.
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await incidents('all')).find((i) => i.id === incident.id)?.status).toBe('reopened');
    // Nor may the resolved alert's repeated notice (Prometheus re-sends resolved alerts): it fired no more.
    await post('/api/v1/alerts', [alert('ReopenCase', 'db-1', 'resolved')]);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await incidents('all')).find((i) => i.id === incident.id)?.status).toBe('reopened');
    // New alerts of the group join the reopened incident; once they resolve, it auto-resolves.
    await post('/api/v1/alerts', [alert('ReopenCase', 'db-2', 'firing')]);
    expect((await incidents('open')).find((i) => i.id === incident.id)?.alertCount).toBe(2);
    await post('/api/v1/alerts', [alert('ReopenCase', 'db-2', 'resolved')]);
    expect((await incidents('all')).find((i) => i.id === incident.id)?.status).toBe('resolved');
  });

  it('lists the alerts of an incident in its detail also once they have left memory', async () => {
    await post('/api/v1/alerts', [alert('GoneCase', 'cache-1', 'firing'), alert('GoneCase', 'cache-2', 'firing')]);
    const incident = (await incidents('open')).find((i) => i.title.startsWith('GoneCase'))!;
    await post('/api/v1/alerts', [alert('GoneCase', 'cache-1', 'resolved')]);
    // Resolved alerts stay in memory for keepResolvedMs (1 h); the sweep (every second) then lets go of them.
    clock.advance(vigil.config.alerts.keepResolvedMs + 60_000);
    await new Promise((r) => setTimeout(r, 1_500));
    const detail = (await (await fetch(`${vigil.url}/api/v1/incidents/${incident.id}`)).json()) as Required<IncidentJson>;
    expect(detail.alertCount).toBe(2);
    // cache-1 is read from storage; cache-2's lease (5 min) ran out meanwhile, so it is resolved and held.
    expect(detail.alerts.map((a) => [a.labels.instance, a.status])).toEqual([
      ['cache-1', 'resolved'],
      ['cache-2', 'resolved'],
    ]);
  });
});
