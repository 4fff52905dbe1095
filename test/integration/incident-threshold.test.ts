import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixedClock } from '../../src/shared/clock.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

// Group by alertname and datacenter; an incident only once 3 alerts of a group fire within 2 minutes.
const clock = createFixedClock(Date.parse('2026-11-23T09:00:00Z'));
let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startTestVigil({
    clock,
    overrides: (c) => {
      c.incidents.grouping = { name: 'dc-wide', groupBy: ['alertname', 'dc'], windowMs: 120_000, minFiringAlerts: 3 };
    },
  });
});
afterAll(async () => {
  await vigil?.stop();
});

const fire = (dc: string, host: string) =>
  fetch(`${vigil.url}/api/v1/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([{ labels: { alertname: 'PacketLoss', dc, host }, status: 'firing', severity: 'major', startsAt: new Date(clock.nowMs()).toISOString() }]),
  });

async function open(): Promise<{ id: string; alertCount: number }[]> {
  return ((await (await fetch(`${vigil.url}/api/v1/incidents?status=open`)).json()) as { incidents: { id: string; alertCount: number }[] }).incidents;
}

describe('grouping with a window and an N-alert threshold', () => {
  it('opens no incident below the threshold, and none for alerts spread wider than the window', async () => {
    await fire('fra', 'h1');
    clock.advance(90_000);
    await fire('fra', 'h2');
    expect(await open()).toEqual([]);
    // h1 fired 150 s ago: outside the 120 s window, so two in the window, still below 3.
    clock.advance(60_000);
    await fire('fra', 'h3');
    expect(await open()).toEqual([]);
  });

  it('opens one incident with all the group\'s alerts once the threshold is reached, and later alerts join it', async () => {
    await fire('fra', 'h4');
    const [incident] = await open();
    expect(incident?.alertCount).toBe(3);
    await fire('fra', 'h5');
    expect((await open()).map((i) => [i.id, i.alertCount])).toEqual([[incident!.id, 4]]);
    // Another datacenter is another group.
    await fire('ams', 'h9');
    expect(await open()).toHaveLength(1);
    const detail = (await (await fetch(`${vigil.url}/api/v1/incidents/${incident!.id}`)).json()) as { timeline: { kind: string; groupBy?: Record<string, string> }[] };
    expect(detail.timeline.filter((e) => e.kind === 'alert_joined').every((e) => e.groupBy?.dc === 'fra' && e.groupBy.alertname === 'PacketLoss')).toBe(true);
  });

  it('does not count alerts that fired further apart than the window as firing together after a restart', async () => {
    const fireFor6h = (host: string) =>
      fetch(`${vigil.url}/api/v1/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([{ labels: { alertname: 'PacketLoss', dc: 'dc-restart', host }, status: 'firing', severity: 'major', startsAt: new Date(clock.nowMs()).toISOString(), endsAt: new Date(clock.nowMs() + 6 * 3_600_000).toISOString() }]),
      });
    for (const host of ['h1', 'h2', 'h3']) {
      await fireFor6h(host);
      clock.advance(5 * 60_000);
    }
    const none = async () => ((await (await fetch(`${vigil.url}/api/v1/incidents?status=all`)).json()) as { incidents: { title: string }[] }).incidents.filter((i) => i.title.includes('dc-restart'));
    expect(await none()).toEqual([]);
    const { dataDir, config } = vigil;
    await vigil.close();
    vigil = await startTestVigil({ clock, dataDir, overrides: (c) => void (c.incidents.grouping = config.incidents.grouping) });
    expect(await none()).toEqual([]);
  });

  it('opens an incident at once for an alert with none of the grouping labels: it has no group to wait for', async () => {
    const response = await fetch(`${vigil.url}/v2/enqueue`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ routing_key: 'r', event_action: 'trigger', dedup_key: 'pd-ups-1', payload: { summary: 'UPS on battery in fra', source: 'ups-1', severity: 'critical' } }),
    });
    expect(response.status).toBe(202);
    const titles = ((await (await fetch(`${vigil.url}/api/v1/incidents?status=open`)).json()) as { incidents: { title: string; alertCount: number }[] }).incidents;
    expect(titles.find((i) => i.title === 'UPS on battery in fra')).toMatchObject({ alertCount: 1 });
  });
});
