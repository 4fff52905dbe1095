import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeChild, findPeers, freePort, startChild, stopChild, sumMetric, type Child } from '../helpers/peers.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

/*
 * A real Prometheus (Debian's 2.42 in CI) scrapes a real node_exporter and itself every second
 * and remote-writes to Vigil. After ~12 scrapes node_exporter is stopped (Prometheus records
 * up=0 and stale markers for its series), then a config reload removes both scrape jobs, so
 * Prometheus appends nothing more: its TSDB and its remote-write counters become a fixed
 * snapshot that Vigil must match exactly, sample for sample.
 *
 * Removing a job does not write stale markers (the pool's context is cancelled first) and
 * removing a target waits for the scrape manager's 5 s tick, hence the stopped exporter.
 */

const PROMETHEUS_NAMES = ['prometheus'];
const NODE_EXPORTER_NAMES = ['prometheus-node-exporter', 'node_exporter'];
/** How long Prometheus scrapes after its first scrape of both targets: ~12 scrapes of each. */
const SCRAPE_RUN_MS = 12_000;
/** One scrape a second keeps the run short while giving every series ~12 samples. */
const SCRAPE_INTERVAL = '1s';


const peers = findPeers('prometheus-remote-write', {
  prometheus: { names: PROMETHEUS_NAMES, debianPackage: 'prometheus' },
  nodeExporter: { names: NODE_EXPORTER_NAMES, debianPackage: 'prometheus-node-exporter' },
});

// Vigil runs with server.auth: Prometheus writes with its token (remote_write `authorization`),
// the test reads back with a read-only one.
const WRITE_TOKEN = 'e2e-prometheus-write-token';
const READ_TOKEN = 'e2e-test-read-only-token';

async function get(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
}

/** Polls `check` until it returns true; throws naming `what` and the peers' output when `timeoutMs` passes. */
async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, peers: Child[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    const dead = peers.find((p) => p.exited);
    if (dead !== undefined) throw new Error(`${dead.name} exited while waiting for ${what}\n${describeChild(dead)}`);
    try {
      if (await check()) return;
    } catch (error) {
      lastError = String(error);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} ${lastError}\n${peers.map(describeChild).join('\n')}`);
    await sleep(250);
  }
}


/** Series Prometheus writes about each scrape; they report a failed scrape rather than go stale. */
const SCRAPE_REPORT_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']);

const COUNTERS = {
  /** Samples Prometheus appended (fan-out to remote write), stale markers included. */
  samplesIn: 'prometheus_remote_storage_samples_in_total',
  /** Counted once per send attempt, so retries are counted again. */
  samplesTotal: 'prometheus_remote_storage_samples_total',
  samplesRetried: 'prometheus_remote_storage_samples_retried_total',
  samplesFailed: 'prometheus_remote_storage_samples_failed_total',
  samplesDropped: 'prometheus_remote_storage_samples_dropped_total',
  samplesPending: 'prometheus_remote_storage_samples_pending',
  metadataTotal: 'prometheus_remote_storage_metadata_total',
  metadataFailed: 'prometheus_remote_storage_metadata_failed_total',
  headAppended: 'prometheus_tsdb_head_samples_appended_total',
} as const;
type Counters = Record<keyof typeof COUNTERS, number>;

function readCounters(text: string): Counters {
  const entries = Object.entries(COUNTERS).map(([key, name]) => {
    const value = sumMetric(text, name);
    if (value === undefined) throw new Error(`Prometheus does not expose ${name}`);
    return [key, value];
  });
  return Object.fromEntries(entries) as Counters;
}

interface ExportLine {
  metric: Record<string, string>;
  values: (number | string | null)[];
  timestamps: number[];
}

interface MatrixSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

/** Runs a PromQL query at the current time; returns `data.result` of a successful answer. */
async function instantQuery(prometheusUrl: string, query: string): Promise<unknown[]> {
  const params = new URLSearchParams({ query, time: String(Date.now() / 1000) });
  const response = await get(`${prometheusUrl}/api/v1/query?${params.toString()}`);
  const body = (await response.json()) as { status: string; error?: string; data?: { result: unknown[] } };
  if (body.status !== 'success' || body.data === undefined) throw new Error(`query ${query}: ${body.error ?? response.status}`);
  return body.data.result;
}

const seriesKey = (labels: Record<string, string>): string => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * One spelling per float: Prometheus gives "1.5", "NaN", "+Inf"; Vigil, as VictoriaMetrics'
 * export, 1.5, null (NaN and the stale marker), "Infinity".
 */
function canonicalValue(value: number | string | null): string {
  if (value === null) return 'NaN';
  if (value === 'Infinity') return '+Inf';
  if (value === '-Infinity') return '-Inf';
  if (value === 'NaN' || value === '+Inf' || value === '-Inf') return value;
  const n = typeof value === 'number' ? value : Number(value);
  if (typeof value === 'string' && Number.isNaN(n)) return `unparsable:${value}`;
  return Object.is(n, -0) ? '-0' : String(n);
}

function prometheusConfig(vigilUrl: string, targets: { node: string; prometheus: string } | undefined): string {
  const config = {
    global: { scrape_interval: SCRAPE_INTERVAL, scrape_timeout: SCRAPE_INTERVAL },
    scrape_configs:
      targets === undefined
        ? []
        : [
            { job_name: 'node', static_configs: [{ targets: [targets.node] }] },
            { job_name: 'prometheus', static_configs: [{ targets: [targets.prometheus] }] },
          ],
    remote_write: [
      {
        url: `${vigilUrl}/api/v1/write`,
        authorization: { credentials: WRITE_TOKEN },
        // Short deadline and backoff so the queue drains within a second or two of the last scrape.
        queue_config: { batch_send_deadline: '1s', min_backoff: '50ms', max_backoff: '1s' },
        // Metadata-only requests every 2 s (default 1 min) so Vigil sees them during the run.
        metadata_config: { send: true, send_interval: '2s' },
      },
    ],
  };
  // JSON is YAML, and Prometheus' YAML parser reads it.
  return JSON.stringify(config, null, 2);
}

interface Run {
  nodeInstance: string;
  prometheusInstance: string;
  counters: Counters;
  prometheusSeries: Map<string, Map<number, string>>;
  vigilSeries: ExportLine[];
}

describe.skipIf(peers.skipReason !== undefined)('Prometheus 2.42 remote_write of node_exporter and itself into Vigil', () => {
  let tempDir: string | undefined;
  const children: Child[] = [];
  let vigil: TestVigil | undefined;
  let run: Run;
  const killOnExit = () => children.forEach((c) => c.exited || c.process.kill('SIGKILL'));

  beforeAll(async () => {
    const { prometheus: prometheusBin, nodeExporter: nodeExporterBin } = peers.require();
    process.once('exit', killOnExit);
    tempDir = mkdtempSync(join(tmpdir(), 'vigil-e2e-prometheus-'));
    const startMs = Date.now();
    vigil = await startTestVigil({
      overrides: (c) => {
        c.server.auth = {
          tokens: [
            { name: 'prometheus', token: WRITE_TOKEN, scopes: ['write'] },
            { name: 'e2e-test', token: READ_TOKEN, scopes: ['read'] },
          ],
        };
      },
    });
    const [nodePort, prometheusPort] = [await freePort(), await freePort()];
    const nodeInstance = `127.0.0.1:${nodePort}`;
    const prometheusInstance = `127.0.0.1:${prometheusPort}`;
    const prometheusUrl = `http://${prometheusInstance}`;

    // Only cheap, host-independent collectors: the default set includes slow or failing ones
    // in containers (filesystem on hung mounts, hwmon, textfile warnings).
    const nodeExporter = startChild('node_exporter', nodeExporterBin, [
      `--web.listen-address=${nodeInstance}`,
      '--collector.disable-defaults',
      ...['cpu', 'meminfo', 'loadavg', 'stat', 'time', 'uname', 'vmstat', 'netdev'].map((c) => `--collector.${c}`),
    ], tempDir);
    children.push(nodeExporter);
    await waitFor('node_exporter to serve /metrics', 10_000, async () => (await get(`http://${nodeInstance}/metrics`)).ok, [nodeExporter]);

    const configFile = join(tempDir, 'prometheus.yml');
    writeFileSync(configFile, prometheusConfig(vigil.url, { node: nodeInstance, prometheus: prometheusInstance }));
    const prometheus = startChild('prometheus', prometheusBin, [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(tempDir, 'tsdb')}`,
      `--web.listen-address=${prometheusInstance}`,
      '--web.enable-lifecycle',
    ], tempDir);
    children.push(prometheus);
    await waitFor('Prometheus to be ready', 15_000, async () => (await get(`${prometheusUrl}/-/ready`)).ok, children);

    // The scrape manager applies discovered targets on a 5 s tick, so the first scrape comes a
    // few seconds after readiness; the run is timed from it.
    await waitFor('the first successful scrape of both targets', 15_000, async () => {
      return (await instantQuery(prometheusUrl, 'up == 1')).length === 2;
    }, children);
    await sleep(SCRAPE_RUN_MS);

    // node_exporter goes away: its next scrape fails, and Prometheus appends up=0 and a stale
    // marker to each of its series in that same commit.
    await stopChild(nodeExporter);
    await waitFor('Prometheus to see node_exporter down', 10_000, async () => {
      return (await instantQuery(prometheusUrl, 'up{job="node"} == 0')).length === 1;
    }, [prometheus]);
    // Removing the scrape jobs (remote_write unchanged, so its queue is kept) stops both scrape
    // loops before /-/reload answers; from then on Prometheus appends nothing.
    writeFileSync(configFile, prometheusConfig(vigil.url, undefined));
    const reload = await get(`${prometheusUrl}/-/reload`, { method: 'POST' });
    expect(reload.status, await reload.text()).toBe(200);

    // Drained: nothing pending and every appended sample acknowledged, failed or dropped,
    // unchanged over two polls.
    let previous = '';
    let counters: Counters | undefined;
    try {
      await waitFor('the remote-write queue to drain', 20_000, async () => {
        const current = readCounters(await (await get(`${prometheusUrl}/metrics`)).text());
        const settled = current.samplesPending === 0 && current.samplesTotal - current.samplesRetried + current.samplesDropped >= current.samplesIn;
        const same = JSON.stringify(current) === previous;
        previous = JSON.stringify(current);
        counters = current;
        return settled && same;
      }, [prometheus]);
    } catch (error) {
      // A queue that never drains is a finding: let the tests below show the figures.
      if (counters === undefined) throw error;
      console.warn(`remote-write queue did not drain: ${JSON.stringify(counters)}\n${describeChild(prometheus)}`);
    }

    // Range vectors hold every raw sample except stale markers, which queries never return.
    const matrix = (await instantQuery(prometheusUrl, '{__name__=~".+"}[10m]')) as MatrixSeries[];
    const prometheusSeries = new Map<string, Map<number, string>>();
    for (const series of matrix) {
      prometheusSeries.set(seriesKey(series.metric), new Map(series.values.map(([t, v]) => [Math.round(t * 1000), canonicalValue(v)])));
    }

    const exportParams = new URLSearchParams({ 'match[]': '{__name__=~".+"}', start: String((startMs - 60_000) / 1000), end: String((Date.now() + 60_000) / 1000), limit: '100000' });
    const exported = await get(`${vigil.url}/api/v1/export?${exportParams.toString()}`, { headers: { authorization: `Bearer ${READ_TOKEN}` } });
    expect(exported.status).toBe(200);
    const vigilSeries = (await exported.text()).split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as ExportLine);

    run = { nodeInstance, prometheusInstance, counters: counters!, prometheusSeries, vigilSeries };
    const stored = vigilSeries.reduce((n, s) => n + s.timestamps.length, 0);
    console.info(`e2e: Prometheus appended ${counters!.samplesIn} samples in ${prometheusSeries.size} series; Vigil exports ${stored} samples in ${vigilSeries.length} series; ${Date.now() - startMs} ms`);
  }, 55_000);

  afterAll(async () => {
    // Prometheus first, so it is not sending to a closed Vigil; then its target; then Vigil.
    for (const child of [...children].reverse()) await stopChild(child);
    process.removeListener('exit', killOnExit);
    await vigil?.stop();
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  }, 30_000);

  it('Prometheus sent every sample it appended, and Vigil accepted every request', () => {
    const c = run.counters;
    expect(c.samplesIn, 'Prometheus appended nothing: did scraping work?').toBeGreaterThan(1000);
    expect(c.samplesFailed, 'samples Vigil rejected as unrecoverable (4xx)').toBe(0);
    expect(c.samplesRetried, 'samples re-sent after a 5xx or a timeout from Vigil').toBe(0);
    expect(c.samplesDropped).toBe(0);
    expect(c.samplesPending).toBe(0);
    expect(c.samplesTotal - c.samplesRetried - c.samplesFailed, 'samples acknowledged by Vigil').toBe(c.samplesIn);
    expect(c.headAppended, 'samples in Prometheus TSDB head').toBe(c.samplesIn);
    expect(c.metadataTotal, 'metadata-only requests were sent').toBeGreaterThan(0);
    expect(c.metadataFailed, 'metadata Vigil rejected').toBe(0);
  });

  it('exports exactly as many samples as Prometheus had acknowledged, stale markers included', () => {
    const c = run.counters;
    const stored = run.vigilSeries.reduce((n, s) => n + s.timestamps.length, 0);
    expect(stored).toBe(c.samplesTotal - c.samplesRetried - c.samplesFailed);
  });

  it('holds every sample of Prometheus TSDB with the same value, and no other series or sample', () => {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const line of run.vigilSeries) {
      const key = seriesKey(line.metric);
      if (seen.has(key)) problems.push(`series exported twice: ${key}`);
      seen.add(key);
      const expected = run.prometheusSeries.get(key);
      if (expected === undefined) {
        problems.push(`series not in Prometheus: ${key}`);
        continue;
      }
      const got = new Map<number, string>();
      line.timestamps.forEach((ts, i) => {
        const value = line.values[i];
        if (value === undefined) problems.push(`${key}: no value for timestamp ${ts}`);
        else if (got.has(ts)) problems.push(`${key}: timestamp ${ts} exported twice`);
        else got.set(ts, canonicalValue(value));
      });
      for (const [ts, want] of expected) {
        const have = got.get(ts);
        if (have !== want) problems.push(`${key} @${ts}: Prometheus ${want}, Vigil ${have ?? 'missing'}`);
      }
      for (const [ts, have] of got) {
        // Prometheus' queries never return its stale markers, which Vigil exports as NaN.
        if (!expected.has(ts) && have !== 'NaN') problems.push(`${key} @${ts}: Vigil has ${have}, Prometheus has no sample`);
      }
      if (line.timestamps.some((ts, i) => i > 0 && ts <= line.timestamps[i - 1]!)) problems.push(`${key}: timestamps not ascending`);
    }
    for (const key of run.prometheusSeries.keys()) if (!seen.has(key)) problems.push(`series missing from Vigil: ${key}`);
    expect(problems.slice(0, 30), `${problems.length} differences`).toEqual([]);
    expect(run.vigilSeries.length).toBe(run.prometheusSeries.size);
  });

  it('ends every node_exporter series with the stale marker Prometheus wrote when the target went down', () => {
    const node = run.vigilSeries.filter((s) => s.metric.job === 'node');
    const scraped = node.filter((s) => !SCRAPE_REPORT_SERIES.has(s.metric.__name__ ?? ''));
    expect(scraped.length).toBeGreaterThan(100);
    // A stale marker: a NaN at a time where Prometheus' own queries return no sample.
    const endsStale = (s: ExportLine) => s.values.at(-1) === null && run.prometheusSeries.get(seriesKey(s.metric))?.has(s.timestamps.at(-1)!) === false;
    const notStale = scraped.filter((s) => !endsStale(s)).map((s) => seriesKey(s.metric));
    expect(notStale.slice(0, 20), `${notStale.length} series without a final stale marker`).toEqual([]);
    // Prometheus' own series for the node target report the failed scrapes instead.
    expect(node.find((s) => s.metric.__name__ === 'up')?.values.at(-1)).toBe(0);
  });

  it('keeps the labels of node_exporter and self-scrape series: job, instance and their own', () => {
    const find = (name: string, job: string) => run.vigilSeries.filter((s) => s.metric.__name__ === name && s.metric.job === job);
    const cpu = find('node_cpu_seconds_total', 'node');
    expect(cpu.length).toBeGreaterThan(0);
    for (const s of cpu) {
      expect(Object.keys(s.metric).sort()).toEqual(['__name__', 'cpu', 'instance', 'job', 'mode']);
      expect(s.metric.instance).toBe(run.nodeInstance);
    }
    expect(new Set(cpu.map((s) => s.metric.mode))).toContain('idle');
    const memory = find('node_memory_MemAvailable_bytes', 'node');
    expect(memory.map((s) => s.metric)).toEqual([{ __name__: 'node_memory_MemAvailable_bytes', instance: run.nodeInstance, job: 'node' }]);
    expect(memory[0]!.values.filter((v) => typeof v === 'number' && v > 0).length).toBeGreaterThanOrEqual(8);
    for (const [job, instance] of [['node', run.nodeInstance], ['prometheus', run.prometheusInstance]] as const) {
      const up = find('up', job);
      expect(up.map((s) => s.metric)).toEqual([{ __name__: 'up', instance, job }]);
      // About 12 scrapes ran; a slow CI machine may miss one, so ask for most, not all.
      expect(up[0]!.values.filter((v) => v === 1).length, `successful scrapes of ${job}`).toBeGreaterThanOrEqual(8);
    }
  });
});
