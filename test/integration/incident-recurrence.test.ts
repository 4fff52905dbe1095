import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixedClock } from '../../src/shared/clock.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

// Recurrence policies: a group firing again within 10 minutes of its last incident's resolve
// reopens that incident; later, a new incident linked to it. Resolved incidents close after an hour.
const clock = createFixedClock(Date.parse('2026-11-23T09:00:00Z'));
let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startTestVigil({
    clock,
    overrides: (c) => {
      c.incidents.autoResolveHoldMs = 0;
      c.incidents.reopenWindowMs = 10 * 60_000;
      c.incidents.autoCloseAfterMs = 60 * 60_000;
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
  alertCount: number;
  relatedIncidentId?: string | null;
  timeline?: { kind: string; actor: string; action?: string; to?: string }[];
}

const post = (path: string, body: unknown) => fetch(`${vigil.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const alert = (instance: string, status: 'firing' | 'resolved') => ({
  labels: { alertname: 'Recurring', instance, severity: 'critical' },
  annotations: { summary: `Recurring on ${instance}` },
  status,
  startsAt: new Date(clock.nowMs()).toISOString(),
});
async function recurringIncidents(): Promise<IncidentJson[]> {
  const response = await fetch(`${vigil.url}/api/v1/incidents?status=all`);
  return ((await response.json()) as { incidents: IncidentJson[] }).incidents.filter((i) => i.title.startsWith('Recurring'));
}
const sweep = () => new Promise((r) => setTimeout(r, 1_500));

describe('incident recurrence and auto-close', () => {
  it('reopens the last incident when its group fires again within the window, and opens a linked one after it', async () => {
    await post('/api/v1/alerts', [alert('db-1', 'firing')]);
    const [first] = await recurringIncidents();
    await post('/api/v1/alerts', [alert('db-1', 'resolved')]);
    expect((await recurringIncidents()).find((i) => i.id === first!.id)?.status).toBe('resolved');

    // Within the window: the same incident, reopened by Vigil, with no second membership.
    clock.advance(5 * 60_000);
    await post('/api/v1/alerts', [alert('db-1', 'firing')]);
    let all = await recurringIncidents();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ id: first!.id, status: 'reopened', alertCount: 1 });
    const detail = (await (await fetch(`${vigil.url}/api/v1/incidents/${first!.id}`)).json()) as IncidentJson;
    expect(detail.timeline!.filter((e) => e.kind === 'transition').map((e) => [e.actor, e.to])).toEqual([
      ['vigil', 'resolved'],
      ['vigil', 'reopened'],
    ]);

    // It resolves again when the alert does; past the window, a new incident links to it.
    await post('/api/v1/alerts', [alert('db-1', 'resolved')]);
    expect((await recurringIncidents())[0]?.status).toBe('resolved');
    clock.advance(11 * 60_000);
    await post('/api/v1/alerts', [alert('db-2', 'firing')]);
    all = await recurringIncidents();
    expect(all).toHaveLength(2);
    const second = all.find((i) => i.id !== first!.id)!;
    expect(second).toMatchObject({ status: 'new', relatedIncidentId: first!.id });
  });

  it('closes a resolved incident once it has been resolved for autoCloseAfterMs', async () => {
    const first = (await recurringIncidents()).find((i) => i.status === 'resolved')!;
    // Resolved 11 minutes ago; the hour runs out 49 minutes from now.
    clock.advance(48 * 60_000);
    await sweep();
    expect((await recurringIncidents()).find((i) => i.id === first.id)?.status).toBe('resolved');
    clock.advance(2 * 60_000);
    await sweep();
    expect((await recurringIncidents()).find((i) => i.id === first.id)?.status).toBe('closed');
    const detail = (await (await fetch(`${vigil.url}/api/v1/incidents/${first.id}`)).json()) as IncidentJson;
    expect(detail.timeline!.at(-1)).toMatchObject({ kind: 'transition', actor: 'vigil', to: 'closed' });
    // The newer one (its alert's 5-minute lease ran out, so it resolved well under an hour ago) stays.
    expect((await recurringIncidents()).find((i) => i.id !== first.id)?.status).toBe('resolved');
  });
});
