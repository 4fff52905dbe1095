import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixedClock } from '../../src/shared/clock.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { until } from '../helpers/until.js';

// Friday 2026-11-20 16:00 in Berlin (15:00 UTC); support hours Mon-Fri 09:00-17:00 Berlin.
const clock = createFixedClock(Date.parse('2026-11-20T15:00:00Z'));
let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startTestVigil({ clock });
  const workdays = ['09:00-17:00'];
  const put = await fetch(`${vigil.url}/api/v1/services`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      configurationItems: [
        { id: 'erp-1', type: 'host' },
        { id: 'shared-1', type: 'host' },
      ],
      services: [
        // Critical and served 24x7 (no support hours), sharing a host with an office-hours one.
        { id: 'pay', name: 'Payments', criticality: 'critical', ownerTeam: 'pay', dependsOn: ['shared-1'] },
        {
          id: 'wiki',
          name: 'Wiki',
          criticality: 'low',
          ownerTeam: 'apps',
          dependsOn: ['shared-1'],
          supportHours: { timeZone: 'Europe/Berlin', days: { mon: workdays, tue: workdays, wed: workdays, thu: workdays, fri: workdays } },
        },
        {
          id: 'erp',
          name: 'ERP',
          criticality: 'medium',
          ownerTeam: 'apps',
          dependsOn: ['erp-1'],
          supportHours: { timeZone: 'Europe/Berlin', days: { mon: workdays, tue: workdays, wed: workdays, thu: workdays, fri: workdays }, holidays: ['2026-11-23'] },
        },
      ],
    }),
  });
  expect(put.status).toBe(200);
});
afterAll(async () => {
  await vigil?.stop();
});

interface IncidentJson {
  id: string;
  title: string;
  status: string;
  priority: string;
  responseDueAt: string;
  resolutionDueAt: string;
  paused: boolean;
  slaBreached: boolean;
  responseBreached: boolean;
  resolutionBreached: boolean;
  timeline?: { kind: string; at: string; target?: string; response?: boolean; resolution?: boolean }[];
}

const post = (path: string, body?: unknown) =>
  fetch(`${vigil.url}${path}`, body === undefined ? { method: 'POST' } : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('SLA timers in support hours, paused while waiting on a third party', () => {
  it('counts only support hours, skipping the weekend and a holiday, and pauses push due times out', async () => {
    await fetch(`${vigil.url}/api/v1/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels: { alertname: 'ErpSlow', instance: 'erp-1:9100', severity: 'warning' }, status: 'firing', startsAt: new Date(clock.nowMs()).toISOString() }]),
    });
    const [incident] = ((await (await fetch(`${vigil.url}/api/v1/incidents`)).json()) as { incidents: IncidentJson[] }).incidents;
    // medium service (low impact) × warning (low urgency) = P4: respond within 8 support hours.
    // Fri 16:00-17:00 is 1 h; Sat, Sun and Monday's holiday do not count; Tue 09:00 + 7 h = 16:00 Berlin = 15:00 UTC.
    expect(incident).toMatchObject({ priority: 'P4', responseDueAt: '2026-11-24T15:00:00.000Z', paused: false });

    const pause = await fetch(`${vigil.url}/api/v1/incidents/${incident!.id}/pause`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'waiting on the vendor' }) });
    expect(await pause.json()).toMatchObject({ paused: true });
    expect((await fetch(`${vigil.url}/api/v1/incidents/${incident!.id}/pause`, { method: 'POST' })).status).toBe(409);
    // Paused for 30 minutes of support time (Fri 16:00-16:30 Berlin).
    clock.advance(30 * 60_000);
    const resumed = (await (await fetch(`${vigil.url}/api/v1/incidents/${incident!.id}/resume`, { method: 'POST' })).json()) as IncidentJson;
    expect(resumed).toMatchObject({ paused: false, responseDueAt: '2026-11-24T15:30:00.000Z' });
    expect((await fetch(`${vigil.url}/api/v1/incidents/${incident!.id}/resume`, { method: 'POST' })).status).toBe(409);
  });

  it('ends a running pause when the incident resolves, so later refreshes do not move its due times', async () => {
    const [incident] = ((await (await fetch(`${vigil.url}/api/v1/incidents?status=open`)).json()) as { incidents: IncidentJson[] }).incidents.filter((i) => i.title.startsWith('ErpSlow'));
    expect((await post(`/api/v1/incidents/${incident!.id}/pause`, { reason: 'vendor' })).status).toBe(200);
    clock.advance(10 * 60_000);
    const resolved = (await (await post(`/api/v1/incidents/${incident!.id}/resolve`)).json()) as IncidentJson;
    expect(resolved).toMatchObject({ status: 'resolved', paused: false });
    // Days later, a close refreshes the clocks: the due times must not have moved.
    clock.advance(3 * 86_400_000);
    const closed = (await (await post(`/api/v1/incidents/${incident!.id}/close`)).json()) as IncidentJson;
    expect({ responseDueAt: closed.responseDueAt, resolutionDueAt: closed.resolutionDueAt }).toEqual({ responseDueAt: resolved.responseDueAt, resolutionDueAt: resolved.resolutionDueAt });
  });

  it('keeps a 24x7 critical service on 24x7 clocks when a less critical office-hours service shares the incident', async () => {
    // Friday 2026-11-27 17:30 UTC: after Berlin office hours.
    clock.set(Date.parse('2026-11-27T17:30:00Z'));
    await post('/api/v1/alerts', [{ labels: { alertname: 'SharedDown', instance: 'shared-1:9100', severity: 'critical' }, status: 'firing', startsAt: new Date(clock.nowMs()).toISOString() }]);
    const [incident] = ((await (await fetch(`${vigil.url}/api/v1/incidents?status=open`)).json()) as { incidents: IncidentJson[] }).incidents.filter((i) => i.title.startsWith('SharedDown'));
    // P1: respond within 15 minutes, around the clock (office hours would say Monday).
    expect(incident).toMatchObject({ priority: 'P1', responseDueAt: '2026-11-27T17:45:00.000Z' });
  });

  it('does not count the time an incident spent resolved once it is reopened: a met target stays met', async () => {
    const [incident] = ((await (await fetch(`${vigil.url}/api/v1/incidents?status=open`)).json()) as { incidents: IncidentJson[] }).incidents.filter((i) => i.title.startsWith('SharedDown'));
    clock.advance(5 * 60_000);
    expect((await post(`/api/v1/incidents/${incident!.id}/acknowledge`)).status).toBe(200);
    expect((await post(`/api/v1/incidents/${incident!.id}/resolve`)).status).toBe(200);
    // Resolved well inside P1's 4 h resolution target; reopened a day later.
    clock.advance(86_400_000);
    const reopened = (await (await post(`/api/v1/incidents/${incident!.id}/reopen`)).json()) as IncidentJson;
    expect(reopened).toMatchObject({ status: 'reopened', slaBreached: false });
    // The day resolved is not on the clock: resolution due is 4 h after creation plus that day.
    expect(Date.parse(reopened.resolutionDueAt)).toBe(Date.parse('2026-11-27T17:30:00Z') + 4 * 3_600_000 + 86_400_000);
  });

  it('flags a response breach and a later resolution breach apart, each once on the timeline', async () => {
    const fired = await post('/api/v1/alerts', [{ labels: { alertname: 'BreachTwice', instance: 'shared-1' }, severity: 'critical', status: 'firing', startsAt: new Date(clock.nowMs()).toISOString() }]);
    expect(fired.status).toBe(200);
    const list = ((await (await fetch(`${vigil.url}/api/v1/incidents?status=open`)).json()) as { incidents: IncidentJson[] }).incidents;
    const { id, priority } = list.find((i) => i.title.startsWith('BreachTwice'))!;
    expect(priority).toBe('P1'); // respond within 15 min, resolve within 4 h, around the clock
    const detail = async () => (await (await fetch(`${vigil.url}/api/v1/incidents/${id}`)).json()) as IncidentJson;
    const breaches = (incident: IncidentJson) => (incident.timeline ?? []).filter((e) => e.kind === 'sla_breached');

    clock.advance(20 * 60_000);
    const late = await until('the response breach', async () => {
      const incident = await detail();
      return breaches(incident).length === 1 ? incident : undefined;
    });
    expect(late).toMatchObject({ slaBreached: true, responseBreached: true, resolutionBreached: false });
    expect(breaches(late)[0]).toMatchObject({ target: 'response', response: true, resolution: false });

    expect((await post(`/api/v1/incidents/${id}/acknowledge`)).status).toBe(200);
    clock.advance(4 * 3_600_000);
    const overdue = await until('the resolution breach', async () => {
      const incident = await detail();
      return breaches(incident).length === 2 ? incident : undefined;
    });
    expect(overdue).toMatchObject({ slaBreached: true, responseBreached: true, resolutionBreached: true });
    expect(breaches(overdue).map((e) => e.target)).toEqual(['response', 'resolution']);
    // Each breach is latched: more sweeps add nothing.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(breaches(await detail())).toHaveLength(2);
  });
});
