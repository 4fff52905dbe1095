import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startReceiver, type HttpReceiver } from '../helpers/http-receiver.js';
import { makeDataDir } from '../helpers/vigil.js';
import { restartablePort, startVigilProcess, waitExit, waitReady } from '../helpers/vigil-process.js';
import { until } from '../helpers/until.js';

/** Deliveries retry with backoff in a child process: give them longer than the in-process tests. */
const CHILD_WAIT_MS = 20_000;

// The durable notification queue, across a clean stop and a crash: deliveries pending against
// an endpoint that is down are stored, resumed at the next start, and arrive once it is up,
// with the delivery id they were given at first.
const dataDir = makeDataDir('vigil-notify-restart-');
const port = await restartablePort(2);
const hookPort = port + 1;
const url = `http://127.0.0.1:${port}`;
const configFile = join(dataDir, 'vigil.yaml');
writeFileSync(
  configFile,
  `notifications:
  routes:
    - { name: ops, url: "http://127.0.0.1:${hookPort}/hook", format: json, kinds: [created] }
  maxAttempts: 100
  retryBaseDelayMs: 200
  timeoutMs: 1000
incidents:
  autoResolveHoldMs: 0
`,
);
let child: ChildProcess | null = null;
let receiver: HttpReceiver | null = null;

afterAll(async () => {
  child?.kill('SIGKILL');
  if (child) await waitExit(child);
  await receiver?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface DeliveryJson {
  id: string;
  route: string;
  incidentId: string;
  kind: string;
  state: string;
  attempts: number;
}

async function start(): Promise<ChildProcess> {
  const proc = startVigilProcess(dataDir, port, { VIGIL_CONFIG: configFile });
  await waitReady(url);
  return proc;
}

async function deliveries(state = ''): Promise<DeliveryJson[]> {
  const response = await fetch(`${url}/api/v1/notifications/deliveries?limit=100${state ? `&state=${state}` : ''}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { deliveries: DeliveryJson[] }).deliveries;
}


const fire = (alertname: string) =>
  fetch(`${url}/api/v1/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([{ labels: { alertname, instance: 'db-1' }, severity: 'critical', status: 'firing', startsAt: new Date().toISOString() }]),
  });

/** Pending deliveries that have failed at least once against the (down) endpoint. */
const retried = (minimum: number) => async () => {
  const pending = (await deliveries('pending')).filter((d) => d.attempts >= 1);
  return pending.length >= minimum ? pending : undefined;
};

describe('durable notification queue', () => {
  it('resumes deliveries left pending by a stop and by a crash, and they arrive once the endpoint is up', async () => {
    // 1. Endpoint down; a new incident's delivery fails and stays pending; a clean stop.
    child = await start();
    expect((await fire('DiskFull')).status).toBe(200);
    const [first] = await until('the first delivery retrying', retried(1), CHILD_WAIT_MS, 100);
    child.kill('SIGTERM');
    await waitExit(child);
    expect(child.exitCode).toBe(0);

    // 2. Still down: the first is resumed and keeps failing; a second incident; then a crash.
    child = await start();
    expect((await fire('LinkDown')).status).toBe(200);
    const pending = await until('both deliveries retrying', async () => {
      const list = await retried(2)();
      return list?.find((d) => d.id === first!.id && d.attempts > first!.attempts) ? list : undefined;
    }, CHILD_WAIT_MS, 100);
    const attemptsBeforeCrash = new Map(pending.map((d) => [d.id, d.attempts]));
    child.kill('SIGKILL');
    await waitExit(child);

    // 3. The endpoint comes up, Vigil restarts: both arrive, each with its stored id.
    const arrived: { id: string | undefined; body: { deliveryId: string; kind: string; incident: { title: string } } }[] = [];
    receiver = await startReceiver(({ headers, body }, response) => {
      arrived.push({ id: headers['x-vigil-delivery'] as string | undefined, body: JSON.parse(body) as (typeof arrived)[number]['body'] });
      response.writeHead(200).end();
    }, hookPort);
    child = await start();
    const delivered = await until('both delivered', async () => {
      const list = await deliveries('delivered');
      return list.length === 2 ? list : undefined;
    }, CHILD_WAIT_MS, 100);
    expect(new Set(delivered.map((d) => d.id))).toEqual(new Set(attemptsBeforeCrash.keys()));
    // Attempts count on across restarts (at least one more than before the crash: the one that got through).
    for (const d of delivered) expect(d.attempts).toBeGreaterThan(attemptsBeforeCrash.get(d.id)!);
    expect(new Set(arrived.map((a) => a.id))).toEqual(new Set(attemptsBeforeCrash.keys()));
    expect(arrived.every((a) => a.body.deliveryId === a.id && a.body.kind === 'created')).toBe(true);
    expect(arrived.map((a) => a.body.incident.title).sort()).toEqual(['DiskFull (alertname=DiskFull)', 'LinkDown (alertname=LinkDown)']);
    expect(await deliveries('pending')).toEqual([]);
    expect((await fetch(`${url}/api/v1/notifications/deliveries?state=lost`)).status).toBe(400);

    child.kill('SIGTERM');
    await waitExit(child);
    child = null;
  }, 180_000);

  it('fails deliveries of a route removed from the configuration, counted where a rule sees the first', async () => {
    // A pending delivery for ops, then ops is renamed: the delivery's route is gone.
    await receiver!.close();
    receiver = null;
    child = await start();
    expect((await fire('CpuHot')).status).toBe(200);
    const [orphan] = await until('a delivery retrying', retried(1), CHILD_WAIT_MS, 100);
    child.kill('SIGTERM');
    await waitExit(child);
    writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('name: ops', 'name: ops-renamed'));
    child = await start();
    const failed = await until('the orphan failed', async () => (await deliveries('failed')).find((d) => d.id === orphan!.id), CHILD_WAIT_MS, 100);
    expect(failed.route).toBe('ops');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^vigil_notification_attempts_total\{route="\(removed\)",outcome="failed"\} 1$/m);
    // No request was made: no time observed under the old name.
    expect(metrics).not.toMatch(/route="ops"/);
    child.kill('SIGTERM');
    await waitExit(child);
    child = null;
  }, 120_000);
});
