import { rmSync } from 'node:fs';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig, validateConfig, type Config } from '../../src/config/index.js';
import { createAlertService } from '../../src/incidents/alert.service.js';
import { normalizeVigilAlerts } from '../../src/incidents/normalize-alerts.js';
import { openStorage } from '../../src/main.js';
import { createMetrics } from '../../src/observability/index.js';
import { createFixedClock } from '../../src/shared/clock.js';
import { makeDataDir, startTestVigil, type TestVigil } from '../helpers/vigil.js';

// What a restart must pick up that no sender will tell again: an alert's resolve stored
// without its incident's part (the process died between the two journal appends), and a
// lease that ran out while Vigil was down. Both must still auto-resolve the incident.
const clock = createFixedClock(Date.parse('2026-11-23T09:00:00Z'));
const dataDir = makeDataDir('vigil-incident-restart-');
const overrides = (c: Config) => {
  c.incidents.autoResolveHoldMs = 0;
};
let vigil: TestVigil | undefined;
afterAll(async () => {
  await vigil?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Each case its own alert name, so its own incident whatever the grouping. */
const alert = (instance: string, status: 'firing' | 'resolved', endsAtMs?: number) => ({
  labels: { alertname: `RestartCase-${instance}`, instance, severity: 'critical' },
  status,
  startsAt: new Date(clock.nowMs()).toISOString(),
  ...(endsAtMs === undefined ? {} : { endsAt: new Date(endsAtMs).toISOString() }),
});
const post = (body: unknown) => fetch(`${vigil!.url}/api/v1/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const incident = async (id: string) => (await (await fetch(`${vigil!.url}/api/v1/incidents/${id}`)).json()) as { id: string; status: string };
const openIncidentOf = async (instance: string) => {
  const { incidents } = (await (await fetch(`${vigil!.url}/api/v1/incidents?status=open`)).json()) as { incidents: { id: string; title: string }[] };
  return incidents.find((i) => i.title.startsWith(`RestartCase-${instance}`));
};
/**
 * Stores alert events through an alert service with no core behind it, on the stopped
 * Vigil's data: what a SIGKILL between an alert's journal append and its incident's leaves.
 */
async function storeWithoutCore(alerts: unknown[]): Promise<void> {
  const config = structuredClone(defaultConfig) as Config;
  config.storage.dataDir = dataDir;
  const logger = pino({ level: 'silent' });
  const { batcher, writer, store } = await openStorage(validateConfig(config), logger, createMetrics());
  const service = createAlertService({ store, batcher, clock, logger, resolveTimeoutMs: 300_000, keepResolvedMs: 3_600_000 });
  await service.start();
  const normalized = normalizeVigilAlerts(alerts, clock.nowMs());
  if (!normalized.ok) throw new Error(normalized.detail);
  await service.receive(normalized.alerts);
  await service.close();
  await writer.close();
  await store.close();
}

/** The sweeps run every second. */
const sweeps = () => new Promise((r) => setTimeout(r, 2_500));

describe('incidents across a restart', () => {
  it('auto-resolves an incident whose alert resolve was stored but never reached the core', async () => {
    vigil = await startTestVigil({ clock, dataDir, overrides });
    await post([alert('db-1', 'firing')]);
    const opened = await openIncidentOf('db-1');
    expect(opened).toBeDefined();
    await vigil.close();

    clock.advance(5_000);
    await storeWithoutCore([alert('db-1', 'resolved')]);

    vigil = await startTestVigil({ clock, dataDir, overrides });
    await sweeps();
    expect((await incident(opened!.id)).status).toBe('resolved');
  });

  it('keeps an incident a person reopened after its alerts resolved open across a restart', async () => {
    await post([alert('db-3', 'firing')]);
    const opened = (await openIncidentOf('db-3'))!;
    await post([alert('db-3', 'resolved')]);
    expect((await incident(opened.id)).status).toBe('resolved');
    const act = (action: string) => fetch(`${vigil!.url}/api/v1/incidents/${opened.id}/${action}`, { method: 'POST' });
    expect((await act('reopen')).status).toBe(200);
    expect((await act('acknowledge')).status).toBe(200);
    await vigil!.close();
    vigil = await startTestVigil({ clock, dataDir, overrides });
    await sweeps();
    expect((await incident(opened.id)).status).toBe('acknowledged');
  });

  it('resolves the incident of an alert whose lease ran out while Vigil was down', async () => {
    await post([alert('db-2', 'firing', clock.nowMs() + 5 * 60_000)]);
    const opened = await openIncidentOf('db-2');
    expect(opened).toBeDefined();
    await vigil!.close();
    clock.advance(10 * 60_000);
    vigil = await startTestVigil({ clock, dataDir, overrides });
    await sweeps();
    expect((await incident(opened!.id)).status).toBe('resolved');
  });

  it('keeps an alert whose group fired again after its incident resolved in the new incident only', async () => {
    // Per group: A resolved, then B opened with the same alert. Storage gives no order; the
    // ids (random) put A after B in about half the groups, which is what went wrong: the
    // alert was mapped to A, and the restart's re-correlation joined it to B a second time.
    const groups = Array.from({ length: 8 }, (_, i) => `regroup-${i}`);
    for (const group of groups) {
      await post([alert(group, 'firing')]);
      clock.advance(1_000);
      await post([alert(group, 'resolved')]);
      clock.advance(60_000);
      await post([alert(group, 'firing')]);
    }
    const newIncidents = new Map<string, string>();
    for (const group of groups) newIncidents.set(group, (await openIncidentOf(group))!.id);
    await vigil!.close();
    vigil = await startTestVigil({ clock, dataDir, overrides });
    for (const group of groups) {
      const detail = (await (await fetch(`${vigil.url}/api/v1/incidents/${newIncidents.get(group)}`)).json()) as {
        alertCount: number;
        timeline: { kind: string }[];
      };
      expect([group, detail.alertCount, detail.timeline.filter((e) => e.kind === 'alert_joined').length]).toEqual([group, 1, 1]);
    }
    // Its alert resolving resolves it (hold 0): the alert counts in the new incident.
    await post(groups.map((group) => alert(group, 'resolved')));
    for (const group of groups) expect((await incident(newIncidents.get(group)!)).status).toBe('resolved');
  });

  it('links a recurrence to its closed predecessor across a restart, within 30 days', async () => {
    const act = (id: string, action: string) => fetch(`${vigil!.url}/api/v1/incidents/${id}/${action}`, { method: 'POST' });
    const recurrence = async () => {
      await post([alert('db-9', 'firing')]);
      const opened = (await openIncidentOf('db-9'))!;
      await post([alert('db-9', 'resolved')]);
      expect((await act(opened.id, 'close')).status).toBe(200);
      return (await (await fetch(`${vigil!.url}/api/v1/incidents/${opened.id}`)).json()) as { id: string; relatedIncidentId?: string | null };
    };
    const first = await recurrence();
    await vigil!.close();
    vigil = await startTestVigil({ clock, dataDir, overrides });
    clock.advance(60_000);
    const second = await recurrence();
    expect(second.relatedIncidentId).toBe(first.id);
    // A month and more later it is no recurrence of that one any more.
    clock.advance(31 * 86_400_000);
    expect((await recurrence()).relatedIncidentId ?? null).toBeNull();
  });

  it('correlates at start a firing alert stored without its incident', async () => {
    await vigil!.close();
    await storeWithoutCore([alert('db-7', 'firing')]);

    vigil = await startTestVigil({ clock, dataDir, overrides });
    expect(await openIncidentOf('db-7')).toBeDefined();
  });

  it('opens no new incident at a restart for an alert still firing in an incident a person resolved or closed', async () => {
    const act = (id: string, action: string) => fetch(`${vigil!.url}/api/v1/incidents/${id}/${action}`, { method: 'POST' });
    const incidentsOf = async (instance: string) => {
      const { incidents } = (await (await fetch(`${vigil!.url}/api/v1/incidents?status=all`)).json()) as { incidents: { id: string; title: string; status: string }[] };
      return incidents.filter((i) => i.title.startsWith(`RestartCase-${instance}`));
    };
    await post([alert('db-5', 'firing'), alert('db-6', 'firing')]);
    const resolvedByPerson = (await openIncidentOf('db-5'))!;
    const closedByPerson = (await openIncidentOf('db-6'))!;
    expect((await act(resolvedByPerson.id, 'resolve')).status).toBe(200);
    expect((await act(closedByPerson.id, 'resolve')).status).toBe(200);
    expect((await act(closedByPerson.id, 'close')).status).toBe(200);
    await vigil!.close();
    vigil = await startTestVigil({ clock, dataDir, overrides });
    // Webhook and PagerDuty senders notify once: nothing new was said, so nothing new opens.
    expect((await incidentsOf('db-5')).map((i) => i.status)).toEqual(['resolved']);
    expect((await incidentsOf('db-6')).map((i) => i.status)).toEqual(['closed']);
    // Its sender saying it still fires opens a new incident, as without the restart.
    clock.advance(60_000);
    await post([alert('db-5', 'firing')]);
    const reopened = await openIncidentOf('db-5');
    expect(reopened?.id).toBeDefined();
    expect(reopened?.id).not.toBe(resolvedByPerson.id);
  });
});
