import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixedClock } from '../../src/shared/clock.js';
import { startReceiver, type HttpReceiver } from '../helpers/http-receiver.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { until } from '../helpers/until.js';

// Escalation policy: the lead after 10 min without acknowledgement, the manager after 30 min,
// and the manager again on an SLA breach. Time is a fixed clock moved by hand; the incident
// sweep (every second) notices.
const MIN = 60_000;
const t0 = Date.parse('2026-11-23T09:00:00Z');
const clock = createFixedClock(t0);
const received: { path: string; headers: IncomingHttpHeaders; body: { deliveryId?: string; kind: string; escalation?: { level: number; reason: string }; incident: { id: string; escalationLevel: number } } }[] = [];
let receiver: HttpReceiver;
let vigil: TestVigil;

beforeAll(async () => {
  receiver = await startReceiver(({ path, headers, body }, response) => {
    received.push({ path, headers, body: JSON.parse(body) as (typeof received)[number]['body'] });
    response.writeHead(200).end();
  });
  const base = receiver.url;
  vigil = await startTestVigil({
    clock,
    overrides: (c) => {
      c.incidents.autoResolveHoldMs = 0;
      // Alerts stay firing however far the clock moves.
      c.alerts.resolveTimeoutMs = 30 * 86_400_000;
      c.notifications = {
        routes: [
          { name: 'ops', url: `${base}/ops`, format: 'json', kinds: ['escalated'] },
          { name: 'lead', url: `${base}/lead`, format: 'json', kinds: [] },
          { name: 'manager', url: `${base}/manager`, format: 'slack', kinds: [] },
        ],
        maxAttempts: 3,
        retryBaseDelayMs: 50,
        timeoutMs: 1_000,
      };
      c.incidents.escalation = {
        levels: [
          { afterMs: 10 * MIN, routes: ['lead'] },
          { afterMs: 30 * MIN, routes: ['manager'] },
          { onBreach: true, routes: ['manager'] },
        ],
      };
    },
  });
});
afterAll(async () => {
  await vigil?.stop();
  await receiver?.close();
});

interface TimelineEntry {
  at: string;
  kind: string;
  actor: string;
  level?: number;
  reason?: string;
  afterMs?: number;
  routes?: string[];
  from?: string;
  to?: string;
  fingerprint?: string;
  incidentSeverity?: { from: string; to: string };
}
interface IncidentJson {
  id: string;
  title: string;
  status: string;
  priority: string;
  severity: string;
  escalationLevel: number;
  slaBreached: boolean;
  responseDueAt: string;
  timeline: TimelineEntry[];
}

const post = (path: string, body?: unknown) =>
  fetch(`${vigil.url}${path}`, body === undefined ? { method: 'POST' } : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const fire = (alertname: string, instance: string, severity: string, status = 'firing') =>
  post('/api/v1/alerts', [{ labels: { alertname, instance }, severity, status, startsAt: new Date(clock.nowMs()).toISOString() }]);
const detail = async (id: string) => (await (await fetch(`${vigil.url}/api/v1/incidents/${id}`)).json()) as IncidentJson;
async function incidentTitled(alertname: string): Promise<IncidentJson> {
  const list = ((await (await fetch(`${vigil.url}/api/v1/incidents?status=all`)).json()) as { incidents: IncidentJson[] }).incidents;
  const found = list.find((i) => i.title.startsWith(alertname));
  if (!found) throw new Error(`no incident for ${alertname}`);
  return detail(found.id);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const escalations = (incident: IncidentJson) => incident.timeline.filter((e) => e.kind === 'escalated');

describe('escalation policy', () => {
  it('escalates an unacknowledged incident level by level, tells each level its routes, and records who, when and why', async () => {
    expect((await fire('DbDown', 'db-1', 'critical')).status).toBe(200);
    const { id } = await incidentTitled('DbDown');

    clock.set(t0 + 10 * MIN);
    // The state is in memory a moment before its timeline row is stored: wait for both.
    const level1 = await until('level 1', async () => {
      const incident = await detail(id);
      return incident.escalationLevel === 1 && escalations(incident).length === 1 ? incident : undefined;
    });
    expect(escalations(level1)).toEqual([
      { at: new Date(t0 + 10 * MIN).toISOString(), actor: 'vigil', kind: 'escalated', level: 1, reason: 'not_acknowledged', afterMs: 10 * MIN, routes: ['lead'] },
    ]);
    const lead = await until('the lead told', () => received.find((r) => r.path === '/lead'));
    expect(lead.body).toMatchObject({ kind: 'escalated', escalation: { level: 1, reason: 'not_acknowledged' }, incident: { id, escalationLevel: 1 } });
    // The stable delivery id, in the header and the body alike, for receivers to dedup on.
    expect(lead.headers['x-vigil-delivery']).toMatch(/^[0-9a-f-]{36}$/);
    expect(lead.body.deliveryId).toBe(lead.headers['x-vigil-delivery']);
    // The route subscribed to every escalation hears of it too; the manager not yet.
    await until('ops told', () => received.find((r) => r.path === '/ops' && r.body.escalation?.level === 1));
    expect(received.some((r) => r.path === '/manager')).toBe(false);

    clock.set(t0 + 30 * MIN);
    await until('level 2', async () => (escalations(await detail(id)).length === 2 ? true : undefined));
    const manager = await until('the manager told', () => received.find((r) => r.path === '/manager'));
    expect(manager.body).toEqual({ text: expect.stringMatching(/^\[P3\] Escalated to level 2 \(not acknowledged\): DbDown/) as unknown });

    // Acknowledged: no further time-based level; a resolution breach (P3: 24 h) still reaches level 3.
    expect((await post(`/api/v1/incidents/${id}/acknowledge`, { actor: 'alice' })).status).toBe(200);
    clock.set(t0 + 25 * 60 * MIN);
    const level3 = await until('level 3 on the breach', async () => {
      const incident = await detail(id);
      return incident.escalationLevel === 3 && escalations(incident).length === 3 ? incident : undefined;
    });
    expect(level3.slaBreached).toBe(true);
    expect(escalations(level3).map((e) => [e.level, e.reason])).toEqual([[1, 'not_acknowledged'], [2, 'not_acknowledged'], [3, 'sla_breached']]);
    expect(level3.timeline.map((e) => e.kind).slice(-2)).toEqual(['sla_breached', 'escalated']);
    await until('the manager told of the breach', () => (received.filter((r) => r.path === '/manager').length === 2 ? true : undefined));

    // The delivery log: every escalation delivered once per route, each on its first attempt.
    const log = await until('every delivery logged as delivered', async () => {
      const page = (await (await fetch(`${vigil.url}/api/v1/notifications/deliveries?incident=${id}&state=delivered`)).json()) as { deliveries: { route: string; kind: string; attempts: number }[] };
      return page.deliveries.length === 6 ? page.deliveries : undefined;
    });
    expect(log.map((d) => d.route).sort()).toEqual(['lead', 'manager', 'manager', 'ops', 'ops', 'ops']);
    expect(log.every((d) => d.kind === 'escalated' && d.attempts === 1)).toBe(true);
  });

  it('acknowledgement stops escalation by time, and a resolved incident never escalates', async () => {
    const start = clock.nowMs();
    await fire('CacheDown', 'cache-1', 'critical');
    await fire('QueueDown', 'mq-1', 'critical');
    const cache = await incidentTitled('CacheDown');
    const queue = await incidentTitled('QueueDown');
    clock.set(start + 5 * MIN);
    expect((await post(`/api/v1/incidents/${cache.id}/acknowledge`)).status).toBe(200);
    await fire('QueueDown', 'mq-1', 'critical', 'resolved');
    expect((await detail(queue.id)).status).toBe('resolved');
    clock.set(start + 45 * MIN);
    await sleep(2_500); // a couple of sweeps
    for (const id of [cache.id, queue.id]) {
      const incident = await detail(id);
      expect(incident.escalationLevel).toBe(0);
      expect(escalations(incident)).toEqual([]);
    }
  });

  it('a reopened incident escalates again from its reopening, until someone takes it', async () => {
    const start = clock.nowMs();
    await fire('WebDown', 'web-1', 'critical');
    const { id } = await incidentTitled('WebDown');
    clock.set(start + 5 * MIN);
    expect((await post(`/api/v1/incidents/${id}/acknowledge`, { actor: 'alice' })).status).toBe(200);
    expect((await post(`/api/v1/incidents/${id}/resolve`, { actor: 'alice' })).status).toBe(200);
    clock.set(start + 20 * MIN);
    const reopened = (await (await post(`/api/v1/incidents/${id}/reopen`, { actor: 'bob' })).json()) as { reopenedAt: string; escalationLevel: number };
    expect(reopened).toMatchObject({ reopenedAt: new Date(start + 20 * MIN).toISOString(), escalationLevel: 0 });
    // As stored (the list of all incidents reads ClickHouse).
    const stored = ((await (await fetch(`${vigil.url}/api/v1/incidents?status=all&limit=100000`)).json()) as { incidents: { id: string; reopenedAt?: string }[] }).incidents;
    expect(stored.find((i) => i.id === id)?.reopenedAt).toBe(reopened.reopenedAt);

    // 10 min after creation is long past, but not 10 min after the reopening.
    clock.set(start + 29 * MIN);
    await sleep(1_500);
    expect((await detail(id)).escalationLevel).toBe(0);
    clock.set(start + 30 * MIN);
    const level1 = await until('level 1 after the reopening', async () => {
      const incident = await detail(id);
      return incident.escalationLevel === 1 && escalations(incident).length === 1 ? incident : undefined;
    });
    expect(escalations(level1)[0]).toMatchObject({ at: new Date(start + 30 * MIN).toISOString(), level: 1, reason: 'not_acknowledged' });
    await until('the lead told again', () => received.find((r) => r.path === '/lead' && r.body.incident.id === id));

    // Taken again: the time-based levels stop.
    expect((await post(`/api/v1/incidents/${id}/acknowledge`, { actor: 'carol' })).status).toBe(200);
    clock.set(start + 60 * MIN);
    await sleep(1_500);
    expect((await detail(id)).escalationLevel).toBe(1);
  });

  it('a breached incident reopened: the delays page again, and the breach told before is not told twice', async () => {
    const start = clock.nowMs();
    await fire('ApiDown', 'api-1', 'critical');
    const { id } = await incidentTitled('ApiDown');
    // Past 10 min, 30 min and the P3 response target (4 h), nobody acknowledging: levels 1 to 3.
    clock.set(start + 5 * 60 * MIN);
    await until('level 3', async () => ((await detail(id)).escalationLevel === 3 ? true : undefined));
    expect((await post(`/api/v1/incidents/${id}/resolve`, { actor: 'alice' })).status).toBe(200);
    expect((await post(`/api/v1/incidents/${id}/reopen`, { actor: 'bob' })).status).toBe(200);
    await sleep(1_500);
    expect((await detail(id)).escalationLevel).toBe(0);
    clock.set(start + 5 * 60 * MIN + 30 * MIN);
    const again = await until('levels 1 and 2 again', async () => {
      const incident = await detail(id);
      return incident.escalationLevel === 2 && escalations(incident).length === 5 ? incident : undefined;
    });
    expect(escalations(again).map((e) => [e.level, e.reason])).toEqual([
      [1, 'not_acknowledged'], [2, 'not_acknowledged'], [3, 'sla_breached'],
      [1, 'not_acknowledged'], [2, 'not_acknowledged'],
    ]);
    await sleep(1_500);
    expect((await detail(id)).escalationLevel).toBe(2);
  });
});

describe('a member alert changing severity', () => {
  it('moves the incident severity, priority and SLA targets, both ways, and puts it on the timeline', async () => {
    // Vigil JSON: severity is a field, not a label, so it is not identity; the same alert reports another severity.
    await fire('ApiErrors', 'api-1', 'warning');
    const before = await incidentTitled('ApiErrors');
    expect(before).toMatchObject({ severity: 'warning', priority: 'P4' });
    const createdMs = clock.nowMs();
    expect(Date.parse(before.responseDueAt) - createdMs).toBe(8 * 60 * MIN);

    await fire('ApiErrors', 'api-1', 'critical');
    const raised = await detail(before.id);
    expect(raised).toMatchObject({ severity: 'critical', priority: 'P3' });
    expect(Date.parse(raised.responseDueAt) - createdMs).toBe(4 * 60 * MIN);
    const change = raised.timeline.find((e) => e.kind === 'severity_changed');
    expect(change).toMatchObject({ actor: 'vigil', from: 'warning', to: 'critical', incidentSeverity: { from: 'warning', to: 'critical' } });
    expect(raised.timeline.find((e) => e.kind === 'priority_changed')).toMatchObject({ from: 'P4', to: 'P3' });

    // A second member (minor) joins; the first drops back to warning: the worst is now minor.
    await fire('ApiErrors', 'api-2', 'minor');
    await fire('ApiErrors', 'api-1', 'warning');
    const lowered = await detail(before.id);
    expect(lowered).toMatchObject({ severity: 'minor', priority: 'P4' });
    expect(lowered.timeline.filter((e) => e.kind === 'severity_changed').map((e) => [e.from, e.to, e.incidentSeverity?.to])).toEqual([
      ['warning', 'critical', 'critical'],
      ['critical', 'warning', 'minor'],
    ]);

    // A resolve notice without severity (read as warning) changes nothing.
    await fire('ApiErrors', 'api-2', 'warning', 'resolved');
    expect((await detail(before.id)).severity).toBe('minor');
  });

  it('PagerDuty events keep their identity (dedup_key) across severities', async () => {
    const event = (severity: string) => ({ routing_key: 'r', event_action: 'trigger', dedup_key: 'pd-disk-1', payload: { summary: 'disk full on nas-1', source: 'nas-1', severity } });
    expect((await post('/v2/enqueue', event('warning'))).status).toBeLessThan(300);
    const list = ((await (await fetch(`${vigil.url}/api/v1/incidents?status=open`)).json()) as { incidents: IncidentJson[] }).incidents;
    const { id } = list.find((i) => i.title === 'disk full on nas-1')!;
    expect((await post('/v2/enqueue', event('critical'))).status).toBeLessThan(300);
    expect(await detail(id)).toMatchObject({ severity: 'critical', priority: 'P3' });
  });

  it('PagerDuty events (no alertname to group by) open an incident each, as PagerDuty does per dedup_key', async () => {
    const trigger = (dedupKey: string, summary: string, source: string) => post('/v2/enqueue', { routing_key: 'r', event_action: 'trigger', dedup_key: dedupKey, payload: { summary, source, severity: 'error' } });
    expect((await trigger('pd-backup-1', 'backup failed on nas-2', 'nas-2')).status).toBe(202);
    expect((await trigger('pd-cert-1', 'certificate expires on lb-3', 'lb-3')).status).toBe(202);
    const open = ((await (await fetch(`${vigil.url}/api/v1/incidents?status=open`)).json()) as { incidents: IncidentJson[] }).incidents;
    const backup = open.find((i) => i.title === 'backup failed on nas-2');
    const cert = open.find((i) => i.title === 'certificate expires on lb-3');
    expect(backup).toBeDefined();
    expect(cert).toBeDefined();
    expect(backup!.id).not.toBe(cert!.id);
    expect((await detail(cert!.id)).timeline.filter((e) => e.kind === 'alert_joined').map((e) => e.fingerprint)).toEqual(['pd-cert-1']);
  });
});
