import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDataDir } from '../helpers/vigil.js';
import { restartablePort, startVigilProcess, waitExit, waitReady } from '../helpers/vigil-process.js';

const dataDir = makeDataDir('vigil-alert-restart-');
const port = await restartablePort();
const url = `http://127.0.0.1:${port}`;
let child: ChildProcess | null = null;

afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function snapshot() {
  const alerts = (await (await fetch(`${url}/api/v1/alerts?status=all&limit=100000`)).json()) as { alerts: { fingerprint: string; status: string }[] };
  const incidents = (await (await fetch(`${url}/api/v1/incidents?status=all&limit=100000`)).json()) as { incidents: { id: string; status: string; alertCount: number }[] };
  return {
    alerts: new Map(alerts.alerts.map((a) => [a.fingerprint, a.status])),
    incidents: new Map(incidents.incidents.map((i) => [i.id, `${i.status}/${i.alertCount}`])),
  };
}

describe('restart: SIGKILL during an alert storm', () => {
  it('rebuilds the same alerts and incidents, and re-sent alerts create no duplicate incident', async () => {
    child = startVigilProcess(dataDir, port);
    await waitReady(url);
    const acked = new Set<string>();
    let stop = false;
    const sender = async (s: number) => {
      for (let round = 0; !stop; round++) {
        // 20 alert groups; each request fires 50 alerts, as Prometheus does (lease 10 min), and
        // the next request of this sender re-sends them (their event rows repeat the maps).
        const batch = round >> 1;
        const alerts = Array.from({ length: 50 }, (_, i) => ({
          labels: { alertname: `Storm${(batch + i) % 20}`, instance: `host-${s}-${batch}-${i}`, severity: 'major' },
          annotations: { summary: 'storm' },
          startsAt: new Date().toISOString(),
          endsAt: new Date(Date.now() + 600_000).toISOString(),
        }));
        try {
          const response = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
          if (response.ok) for (const a of alerts) acked.add(a.labels.instance);
        } catch {
          return;
        }
      }
    };
    const senders = [0, 1, 2, 3].map(sender);
    await new Promise((r) => setTimeout(r, 2000));
    child.kill('SIGKILL');
    stop = true;
    await Promise.all(senders);
    await waitExit(child);
    expect(acked.size).toBeGreaterThan(200);

    child = startVigilProcess(dataDir, port);
    await waitReady(url);
    const after = await snapshot();
    // Every acknowledged alert is there, firing.
    expect(after.alerts.size).toBeGreaterThanOrEqual(acked.size);
    expect([...after.alerts.values()].every((s) => s === 'firing')).toBe(true);
    // One open incident per group, holding every stored alert of that group.
    expect(after.incidents.size).toBe(20);
    const totalMembers = [...after.incidents.values()].reduce((n, v) => n + Number(v.split('/')[1]), 0);
    expect(totalMembers).toBe(after.alerts.size);

    // Each alert's stored events read back whole, as sent, re-sends (rows repeating the maps of
    // the event before) included, whether the crash left them in the journal or not.
    const listed = (await (await fetch(`${url}/api/v1/alerts?status=all&limit=100000`)).json()) as {
      alerts: { fingerprint: string; labels: Record<string, string>; eventCount: number }[];
    };
    const resent = listed.alerts.filter((a) => a.eventCount > 1);
    expect(resent.length).toBeGreaterThan(50);
    for (const alert of resent.slice(0, 100)) {
      const { events } = (await (await fetch(`${url}/api/v1/alerts/${alert.fingerprint}/events`)).json()) as {
        events: { seq: number; labels: Record<string, string>; annotations: Record<string, string> }[];
      };
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: alert.eventCount }, (_, i) => alert.eventCount - i));
      for (const e of events) expect(e).toMatchObject({ labels: alert.labels, annotations: { summary: 'storm' } });
    }

    // Alertmanager-style re-notification of the same alerts: nothing new.
    const fingerprintsBefore = new Set(after.alerts.keys());
    const resend = Array.from({ length: 20 }, (_, g) => ({ labels: { alertname: `Storm${g}`, instance: `host-0-0-${(g + 20 - 0) % 50}`, severity: 'major' }, annotations: {}, startsAt: new Date().toISOString() }));
    const known = resend.filter((a) => acked.has(a.labels.instance));
    expect((await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(known) })).ok).toBe(true);
    const again = await snapshot();
    expect(new Set(again.alerts.keys())).toEqual(fingerprintsBefore);
    expect(again.incidents).toEqual(after.incidents);
    child.kill('SIGTERM');
    await waitExit(child);
    child = null;
  }, 120_000);
});
