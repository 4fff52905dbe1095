import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPeers, freePort, PermanentError, startChild, stopChild, sumMetric, waitFor, type Child } from '../helpers/peers.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

/*
 * A real Prometheus (Debian's 2.42 in CI) with Vigil as its Alertmanager: `alerting.alertmanagers`
 * points at Vigil's address with an empty path prefix, so Prometheus POSTs to /api/v2/alerts.
 * Prometheus scrapes a real node_exporter every second and evaluates `InstanceDown`
 * (up{job="node"} == 0) every second:
 *   1. while node_exporter is up: no InstanceDown alert, no incident;
 *   2. node_exporter is stopped: the rule fires and Vigil opens one incident for it;
 *   3. node_exporter is restarted on the same port: the rule stops firing, Prometheus sends
 *      the alert with endsAt = when it resolved, and Vigil resolves the alert and (hold 0)
 *      the incident. Prometheus re-sends firing and resolved alerts every resend delay
 *      (1 s here): still exactly one incident.
 *
 * Prometheus 2.42 posts firing alerts with endsAt = now + 4 × max(resend delay, evaluation
 * interval) (a lease), re-sent every resend delay (`--rules.alert.resend-delay`, default 1 m),
 * and resolved ones for 15 min after they resolved, with endsAt in the past.
 */

const PROMETHEUS_NAMES = ['prometheus'];
const NODE_EXPORTER_NAMES = ['prometheus-node-exporter', 'node_exporter'];
/** One scrape and one rule evaluation a second keeps every transition within a few seconds. */
const INTERVAL = '1s';
/** Re-send every second (default 1 m) so duplicates, if Vigil made them, show within the run. */
const RESEND_DELAY = '1s';
/** Bound on Vigil seeing the rule fire: one failed scrape + one evaluation + one send ≈ 3 s. */
const FIRE_WAIT_MS = 30_000;
/** Bound on Vigil seeing the rule resolve: one good scrape + one evaluation + one send ≈ 3 s. */
const RESOLVE_WAIT_MS = 45_000;
/** How long the test keeps listening after the resolution, while Prometheus re-sends the resolved alert. */
const RESEND_OBSERVE_MS = 3_000;
const ALERT_NAME = 'InstanceDown';


const peers = findPeers('prometheus-alerting', {
  prometheus: { names: PROMETHEUS_NAMES, debianPackage: 'prometheus' },
  nodeExporter: { names: NODE_EXPORTER_NAMES, debianPackage: 'prometheus-node-exporter' },
});


async function get(url: string): Promise<Response> {
  return fetch(url, { signal: AbortSignal.timeout(10_000) });
}



/** GET /api/v1/alerts's Alert (api.md). */
interface VigilAlert {
  fingerprint: string;
  source: string;
  status: 'firing' | 'resolved';
  severity: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string | null;
  resolvedAt: string | null;
  eventCount: number;
  generatorUrl?: string;
}

/** GET /api/v1/incidents's Incident (api.md). */
interface VigilIncident {
  id: string;
  title: string;
  status: string;
  priority: string;
  alertCount: number;
  createdAt: string;
  resolvedAt?: string;
}

/** GET /api/v1/incidents/:id: the incident with its alerts. */
interface VigilIncidentDetail extends VigilIncident {
  alerts: VigilAlert[];
}

function summaryOf(instance: string): string {
  return `${ALERT_NAME}: ${instance} of job node is unreachable`;
}

function rulesFile(): string {
  const rules = {
    groups: [
      {
        name: 'vigil-e2e',
        interval: INTERVAL,
        rules: [
          {
            alert: ALERT_NAME,
            expr: 'up{job="node"} == 0',
            for: '0s',
            labels: { severity: 'critical' },
            // Templated, so the test also sees that Vigil keeps Prometheus' expanded annotations.
            annotations: { summary: `${ALERT_NAME}: {{ $labels.instance }} of job {{ $labels.job }} is unreachable` },
          },
        ],
      },
    ],
  };
  return JSON.stringify(rules, null, 2);
}

function prometheusConfig(nodeInstance: string, vigilInstance: string, rulesPath: string): string {
  const config = {
    global: { scrape_interval: INTERVAL, scrape_timeout: INTERVAL, evaluation_interval: INTERVAL },
    rule_files: [rulesPath],
    // Prometheus sends to <scheme>://<target><path_prefix>/api/v2/alerts: Vigil's intake path.
    alerting: { alertmanagers: [{ scheme: 'http', path_prefix: '', api_version: 'v2', timeout: '5s', static_configs: [{ targets: [vigilInstance] }] }] },
    scrape_configs: [{ job_name: 'node', static_configs: [{ targets: [nodeInstance] }] }],
  };
  // JSON is YAML, and Prometheus' YAML parser reads it.
  return JSON.stringify(config, null, 2);
}

const ms = (iso: string | null | undefined): number | null => (iso === null || iso === undefined ? null : Date.parse(iso));

describe.skipIf(peers.skipReason !== undefined)('Prometheus 2.42 alerting rules sent straight to Vigil', () => {
  let tempDir = '';
  let vigil: TestVigil | undefined;
  let prometheus: Child | undefined;
  let nodeExporter: Child | undefined;
  const children: Child[] = [];
  let prometheusUrl = '';
  let nodeInstance = '';
  let nodeArgs: string[] = [];
  let nodeExporterBin = '';
  /** Steps are a sequence: a later one is skipped when an earlier one failed. */
  let stepsPassed = 0;
  let incidentId = '';
  let fingerprint = '';
  const killOnExit = () => children.forEach((c) => c.exited || c.process.kill('SIGKILL'));

  // What each peer said last, for failure messages.
  const last = { vigil: '(nothing yet)', prometheus: '(nothing yet)' };
  const lastReports = () => `Vigil last reported: ${last.vigil}\nPrometheus last reported: ${last.prometheus}`;

  async function vigilGet<T>(path: string): Promise<T> {
    const url = `${vigil!.url}${path}`;
    const response = await get(url);
    const text = await response.text();
    last.vigil = `GET ${path} → ${response.status} ${text.slice(0, 4_000)}`;
    if (response.status >= 400 && response.status < 500) throw new PermanentError(last.vigil);
    if (!response.ok) throw new Error(last.vigil);
    return JSON.parse(text) as T;
  }

  async function prometheusGet<T>(path: string): Promise<T> {
    const response = await get(`${prometheusUrl}${path}`);
    const text = await response.text();
    last.prometheus = `GET ${path} → ${response.status} ${text.slice(0, 4_000)}`;
    const body = JSON.parse(text) as { status: string; error?: string; data?: T };
    if (body.status !== 'success' || body.data === undefined) throw new Error(last.prometheus);
    return body.data;
  }

  /** Every incident with an InstanceDown alert, by title or by the alerts it holds. */
  async function instanceDownIncidents(status: 'open' | 'resolved' | 'all'): Promise<VigilIncidentDetail[]> {
    const page = await vigilGet<{ incidents: VigilIncident[]; total: number }>(`/api/v1/incidents?status=${status}&limit=1000`);
    const details = await Promise.all(page.incidents.map((i) => vigilGet<VigilIncidentDetail>(`/api/v1/incidents/${encodeURIComponent(i.id)}`)));
    return details.filter((d) => d.title.includes(ALERT_NAME) || d.alerts.some((a) => a.labels.alertname === ALERT_NAME));
  }

  async function instanceDownAlerts(status: 'firing' | 'resolved' | 'all'): Promise<VigilAlert[]> {
    const page = await vigilGet<{ alerts: VigilAlert[]; total: number }>(`/api/v1/alerts?status=${status}&limit=1000`);
    return page.alerts.filter((a) => a.labels.alertname === ALERT_NAME);
  }

  /** Prometheus' notifier counters: alerts sent, failed sends (a non-2xx from Vigil or no answer), dropped. */
  async function notifierCounts(): Promise<{ sent: number; errors: number; dropped: number }> {
    const text = await (await get(`${prometheusUrl}/metrics`)).text();
    return {
      sent: sumMetric(text, 'prometheus_notifications_sent_total') ?? 0,
      errors: sumMetric(text, 'prometheus_notifications_errors_total') ?? 0,
      dropped: sumMetric(text, 'prometheus_notifications_dropped_total') ?? 0,
    };
  }

  async function upOfNode(): Promise<string | undefined> {
    const result = await prometheusGet<{ result: { value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent('up{job="node"}')}`);
    return result.result[0]?.value[1];
  }

  beforeAll(async () => {
    const bins = peers.require();
    nodeExporterBin = bins.nodeExporter;
    process.once('exit', killOnExit);
    tempDir = mkdtempSync(join(tmpdir(), 'vigil-e2e-prometheus-alerting-'));
    // Hold 0: the incident resolves as soon as its last alert does, within the run.
    vigil = await startTestVigil({ overrides: (c) => { c.incidents.autoResolveHoldMs = 0; } });
    const vigilInstance = new URL(vigil.url).host;
    const [nodePort, prometheusPort] = [await freePort(), await freePort()];
    nodeInstance = `127.0.0.1:${nodePort}`;
    prometheusUrl = `http://127.0.0.1:${prometheusPort}`;

    // Only cheap, host-independent collectors: up is all the rule reads.
    nodeArgs = [`--web.listen-address=${nodeInstance}`, '--collector.disable-defaults', '--collector.loadavg', '--collector.time'];
    nodeExporter = startChild('node_exporter', nodeExporterBin, nodeArgs, tempDir);
    children.push(nodeExporter);
    const ne = nodeExporter;
    await waitFor('node_exporter to serve /metrics', 10_000, async () => (await get(`http://${nodeInstance}/metrics`)).ok, lastReports, [ne]);

    const rulesPath = join(tempDir, 'rules.yml');
    writeFileSync(rulesPath, rulesFile());
    const configFile = join(tempDir, 'prometheus.yml');
    writeFileSync(configFile, prometheusConfig(nodeInstance, vigilInstance, rulesPath));
    prometheus = startChild('prometheus', bins.prometheus, [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(tempDir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
      `--rules.alert.resend-delay=${RESEND_DELAY}`,
    ], tempDir);
    children.push(prometheus);
    await waitFor('Prometheus to be ready', 15_000, async () => (await get(`${prometheusUrl}/-/ready`)).ok, lastReports, children);

    // Discovered targets and Alertmanagers are applied on a 5 s tick: wait for both.
    await waitFor('Prometheus to scrape node_exporter successfully (up == 1)', 15_000, async () => (await upOfNode()) === '1', lastReports, children);
    await waitFor('Prometheus to list Vigil as its Alertmanager', 15_000, async () => {
      const data = await prometheusGet<{ activeAlertmanagers: { url: string }[] }>('/api/v1/alertmanagers');
      return data.activeAlertmanagers.some((a) => a.url === `http://${vigilInstance}/api/v2/alerts`);
    }, lastReports, children);
  }, 50_000);

  afterAll(async () => {
    // Prometheus first, so it is not sending to a closed Vigil; then its target; then Vigil.
    for (const child of [...children].reverse()) await stopChild(child);
    process.removeListener('exit', killOnExit);
    await vigil?.stop();
    if (tempDir !== '') rmSync(tempDir, { recursive: true, force: true });
  }, 30_000);

  it('has no InstanceDown alert or incident while node_exporter is up', async () => {
    // A few evaluations with up == 1: the rule must stay inactive and Vigil quiet.
    await sleep(2_000);
    expect(await upOfNode(), lastReports()).toBe('1');
    expect(await instanceDownIncidents('all'), last.vigil).toEqual([]);
    expect(await instanceDownAlerts('all'), last.vigil).toEqual([]);
    stepsPassed = 1;
  }, 20_000);

  it('opens one incident with the firing InstanceDown alert when node_exporter stops', async (context) => {
    context.skip(stepsPassed < 1, 'an earlier step failed');
    const stoppedAtMs = Date.now();
    await stopChild(nodeExporter);

    let open: VigilIncidentDetail[] = [];
    await waitFor('Vigil to open an InstanceDown incident', FIRE_WAIT_MS, async () => {
      open = await instanceDownIncidents('open');
      return open.some((i) => i.alerts.some((a) => a.labels.alertname === ALERT_NAME && a.status === 'firing'));
    }, lastReports, [prometheus!]);

    expect(open.length, `open InstanceDown incidents\n${last.vigil}`).toBe(1);
    const incident = open[0]!;
    incidentId = incident.id;
    expect(incident.status, last.vigil).not.toBe('resolved');
    expect(incident.title, 'the title is the summary annotation Prometheus expanded').toBe(summaryOf(nodeInstance));
    expect(incident.priority, 'critical severity').toMatch(/^P[1-4]$/);
    expect(incident.alertCount).toBe(1);
    expect(ms(incident.createdAt)).toBeGreaterThanOrEqual(stoppedAtMs - 1_000);
    expect(incident.resolvedAt).toBeUndefined();

    expect(incident.alerts).toHaveLength(1);
    const alert = incident.alerts[0]!;
    fingerprint = alert.fingerprint;
    expect(alert).toMatchObject({
      source: 'prometheus',
      status: 'firing',
      severity: 'critical',
      // Exactly the labels Prometheus gives the alert: the series' plus alertname and the rule's.
      labels: { alertname: ALERT_NAME, instance: nodeInstance, job: 'node', severity: 'critical' },
      annotations: { summary: summaryOf(nodeInstance) },
      resolvedAt: null,
    });
    expect(Object.keys(alert.labels).sort()).toEqual(['alertname', 'instance', 'job', 'severity']);
    // Prometheus' lease on a firing alert: endsAt = send time + 4 × max(resend delay, interval).
    expect(ms(alert.endsAt), 'endsAt: the lease Prometheus sent').toBeGreaterThan(ms(alert.startsAt)!);
    expect(ms(alert.startsAt), 'startsAt: when the rule first fired').toBeGreaterThanOrEqual(stoppedAtMs - 1_000);
    expect(alert.generatorUrl ?? '', 'generatorURL points at the Prometheus expression').toContain('/graph?g0.expr=');

    const firing = await instanceDownAlerts('firing');
    expect(firing.map((a) => a.fingerprint), last.vigil).toEqual([fingerprint]);

    // Prometheus agrees the rule fires, and Vigil accepted every send.
    const rules = await prometheusGet<{ alerts: { labels: Record<string, string>; state: string }[] }>('/api/v1/alerts');
    expect(rules.alerts.filter((a) => a.labels.alertname === ALERT_NAME).map((a) => a.state), last.prometheus).toEqual(['firing']);
    const counts = await notifierCounts();
    expect(counts.sent, 'alerts Prometheus sent').toBeGreaterThanOrEqual(1);
    expect(counts.errors, 'sends Vigil did not accept').toBe(0);
    expect(counts.dropped, 'alerts Prometheus dropped').toBe(0);
    stepsPassed = 2;
  }, FIRE_WAIT_MS + 10_000);

  it('resolves the alert and the incident when node_exporter is back, and never opens a second one', async (context) => {
    context.skip(stepsPassed < 2, 'an earlier step failed');
    // A few re-sends of the firing alert first (resend delay 1 s): they must join the same incident.
    await sleep(2_000);
    nodeExporter = startChild('node_exporter (restarted)', nodeExporterBin, nodeArgs, tempDir);
    children.push(nodeExporter);
    const restartedAtMs = Date.now();
    const ne = nodeExporter;
    await waitFor('the restarted node_exporter to serve /metrics', 10_000, async () => (await get(`http://${nodeInstance}/metrics`)).ok, lastReports, [ne]);

    let detail: VigilIncidentDetail | undefined;
    await waitFor('Vigil to resolve the InstanceDown incident and its alert', RESOLVE_WAIT_MS, async () => {
      detail = await vigilGet<VigilIncidentDetail>(`/api/v1/incidents/${encodeURIComponent(incidentId)}`);
      return detail.status === 'resolved' && detail.alerts.every((a) => a.status === 'resolved');
    }, lastReports, [prometheus!, ne]);
    const resolvedSeenAtMs = Date.now();

    expect(await upOfNode(), lastReports()).toBe('1');
    const incident = detail!;
    expect(incident.status).toBe('resolved');
    expect(ms(incident.resolvedAt), 'resolvedAt').not.toBeNull();
    expect(ms(incident.resolvedAt), 'resolved after the restart').toBeGreaterThanOrEqual(restartedAtMs - 1_000);
    expect(ms(incident.resolvedAt)).toBeLessThanOrEqual(resolvedSeenAtMs);
    expect(incident.alertCount, 'the re-sent firing alert did not count twice').toBe(1);
    expect(incident.alerts.map((a) => a.fingerprint)).toEqual([fingerprint]);
    const alert = incident.alerts[0]!;
    expect(alert).toMatchObject({ status: 'resolved', labels: { alertname: ALERT_NAME, instance: nodeInstance, job: 'node', severity: 'critical' } });
    // Prometheus sends the time the rule stopped firing as endsAt: after the restart.
    expect(ms(alert.resolvedAt), 'resolvedAt of the alert').toBeGreaterThanOrEqual(restartedAtMs - 1_000);
    expect(ms(alert.resolvedAt)).toBeLessThanOrEqual(resolvedSeenAtMs);
    expect(alert.eventCount, 'Prometheus re-sent the alert every second').toBeGreaterThanOrEqual(3);

    // Prometheus keeps re-sending the resolved alert every resend delay: nothing may change.
    await sleep(RESEND_OBSERVE_MS);
    const all = await instanceDownIncidents('all');
    expect(all.map((i) => ({ id: i.id, status: i.status })), `InstanceDown incidents over the run\n${last.vigil}`).toEqual([{ id: incidentId, status: 'resolved' }]);
    expect(await instanceDownIncidents('open'), last.vigil).toEqual([]);
    const alerts = await instanceDownAlerts('all');
    expect(alerts.map((a) => ({ fingerprint: a.fingerprint, status: a.status })), last.vigil).toEqual([{ fingerprint, status: 'resolved' }]);
    expect(alerts[0]!.eventCount, 'the resolved alert was re-sent').toBeGreaterThan(alert.eventCount);

    const counts = await notifierCounts();
    expect(counts.errors, 'sends Vigil did not accept').toBe(0);
    expect(counts.dropped, 'alerts Prometheus dropped').toBe(0);
  }, RESOLVE_WAIT_MS + 25_000);
});
