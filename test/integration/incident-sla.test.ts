import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixedClock } from '../../src/shared/clock.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

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
      configurationItems: [{ id: 'erp-1', type: 'host' }],
      services: [
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
  priority: string;
  responseDueAt: string;
  resolutionDueAt: string;
  paused: boolean;
}

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
});
