import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import { createFixedClock } from '../../src/shared/clock.js';
import { startReceiver, type HttpReceiver } from '../helpers/http-receiver.js';
import { scrapeSamples } from '../helpers/metric-names.js';
import { until } from '../helpers/until.js';
import { makeDataDir, startTestVigil, type TestVigil } from '../helpers/vigil.js';

// Escalation repeat (PagerDuty's "repeat if no one acknowledges"): the on-call lead is paged
// at 10 min, then reminded every 15 min, twice at most, until someone takes the incident. The
// count survives a restart. A fixed clock moved by hand; the incident sweep (every second)
// notices.
const MIN = 60_000;
const t0 = Date.parse('2026-11-23T09:00:00Z');
const clock = createFixedClock(t0);
const dataDir = makeDataDir('vigil-repeat-');
const paged: { kind: string; escalation?: { level: number; reason: string; repeat?: number }; incident: { id: string } }[] = [];
/** What the route subscribing to every escalation heard: levels, not reminders. */
const channel: { escalation?: { level: number; repeat?: number } }[] = [];
let receiver: HttpReceiver;
let vigil: TestVigil;

function configure(c: Config): void {
  c.incidents.autoResolveHoldMs = 0;
  c.alerts.resolveTimeoutMs = 30 * 86_400_000;
  c.notifications = {
    routes: [
      { name: 'lead', url: `${receiver.url}/lead`, format: 'json', kinds: [] },
      { name: 'channel', url: `${receiver.url}/channel`, format: 'json', kinds: ['escalated'] },
    ],
    maxAttempts: 3,
    retryBaseDelayMs: 50,
    timeoutMs: 1_000,
  };
  c.incidents.escalation = { levels: [{ afterMs: 10 * MIN, routes: ['lead'] }], repeat: { intervalMs: 15 * MIN, times: 2 } };
}

beforeAll(async () => {
  receiver = await startReceiver(({ path, body }, response) => {
    if (path === '/channel') channel.push(JSON.parse(body) as (typeof channel)[number]);
    else paged.push(JSON.parse(body) as (typeof paged)[number]);
    response.writeHead(200).end();
  });
  vigil = await startTestVigil({ dataDir, clock, overrides: configure });
});
afterAll(async () => {
  await vigil?.close();
  await receiver?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const post = (path: string, body: unknown) => fetch(`${vigil.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
async function metric(sample: string): Promise<number> {
  return (await scrapeSamples(`${vigil.url}/metrics`)).get(sample) ?? Number.NaN;
}
/**
 * Waits for two whole sweeps after the clock moved (the first may have begun before), and
 * for every delivery they started: what was not told by then is not due.
 */
async function afterTwoSweeps(): Promise<void> {
  const before = await metric('vigil_incident_sweep_duration_seconds_count');
  await until('two sweeps', async () => ((await metric('vigil_incident_sweep_duration_seconds_count')) >= before + 2 ? true : undefined));
  await until('deliveries done', async () => ((await metric('vigil_notifications_pending')) === 0 ? true : undefined));
}
/** What the lead was told so far: the level, and which reminder (0: the level itself). */
const told = () => paged.map((p) => [p.escalation?.level, p.escalation?.repeat ?? 0]);
const pagedTimes = (count: number) => until(`${count} pages`, () => (paged.length >= count ? true : undefined));

describe('escalation repeat', () => {
  let id = '';

  it('pages at the level, then reminds every interval while nobody takes the incident', async () => {
    expect((await post('/api/v1/alerts', [{ labels: { alertname: 'DbDown', instance: 'db-1' }, severity: 'critical', status: 'firing', startsAt: new Date(t0).toISOString() }])).status).toBe(200);
    clock.set(t0 + 10 * MIN);
    await pagedTimes(1);
    id = paged[0]!.incident.id;
    clock.set(t0 + 25 * MIN - 1);
    // No reminder before its time.
    await afterTwoSweeps();
    expect(told()).toEqual([[1, 0]]);
    clock.set(t0 + 25 * MIN);
    await pagedTimes(2);
    expect(paged[1]).toMatchObject({ kind: 'escalated', escalation: { level: 1, reason: 'not_acknowledged', repeat: 1 }, incident: { id } });
    // A reminder reaches no new level: the escalations counter counts the level once.
    expect(await metric('vigil_incident_escalations_total{reason="not_acknowledged"}')).toBe(1);
  });

  it('continues the count after a restart: no reminder told twice', async () => {
    await vigil.close();
    vigil = await startTestVigil({ dataDir, clock, overrides: configure });
    clock.set(t0 + 39 * MIN);
    await afterTwoSweeps();
    expect(told()).toEqual([
      [1, 0],
      [1, 1],
    ]);
    clock.set(t0 + 40 * MIN);
    await pagedTimes(3);
    expect(told()[2]).toEqual([1, 2]);
  });

  it('stops at its limit, and records each reminder on the timeline', async () => {
    clock.set(t0 + 300 * MIN);
    await afterTwoSweeps();
    expect(paged).toHaveLength(3);
    const detail = (await (await fetch(`${vigil.url}/api/v1/incidents/${id}`)).json()) as { escalationLevel: number; timeline: { kind: string; level?: number; repeat?: number }[] };
    expect(detail.escalationLevel).toBe(1);
    expect(channel.map((c) => [c.escalation?.level, c.escalation?.repeat ?? 0])).toEqual([[1, 0]]);
    expect(detail.timeline.filter((e) => e.kind === 'escalated').map((e) => [e.level, e.repeat ?? 0])).toEqual([
      [1, 0],
      [1, 1],
      [1, 2],
    ]);
  });

  it('starts over when the incident is reopened, and stops once someone takes it', async () => {
    expect((await post(`/api/v1/incidents/${id}/resolve`, { actor: 'alice' })).status).toBe(200);
    expect((await post(`/api/v1/incidents/${id}/reopen`, { actor: 'bob' })).status).toBe(200);
    // Reopened at 300 min: the level again at 310, a reminder at 325.
    clock.set(t0 + 310 * MIN);
    await pagedTimes(4);
    clock.set(t0 + 325 * MIN);
    await pagedTimes(5);
    expect(told().slice(3)).toEqual([
      [1, 0],
      [1, 1],
    ]);
    expect((await post(`/api/v1/incidents/${id}/acknowledge`, { actor: 'bob' })).status).toBe(200);
    clock.set(t0 + 340 * MIN);
    await afterTwoSweeps();
    expect(paged).toHaveLength(5);
  });
});
