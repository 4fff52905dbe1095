import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { queriesOf, readDashboards, variableQueryOf } from '../helpers/dashboards.js';
import { findPeers, freePort, startChild, stopChild, waitFor, type Child } from '../helpers/peers.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

/*
 * The dashboard's PromQL and the shipped alert rules, asked of a real Prometheus (Debian's 2.42
 * in CI) that scrapes a real Vigil every second. test/integration/dashboards.test.ts checks the
 * queries' metric names with regular expressions; only Prometheus can say that a query parses,
 * type-checks (a range vector where an instant one is needed, a bad `by`), evaluates, and
 * returns data for the Vigil it scrapes.
 *
 * Vigil gets traffic before the first scrape (so its labelled series exist from the start) and
 * again after it (so rate() and increase() see the counters move), then Prometheus scrapes it
 * at least 5 times: rate() needs two samples in its range.
 */

const rulesFile = resolve(import.meta.dirname, '../../deploy/prometheus/vigil.rules.yml');
const RULE_GROUP = 'vigil';
const SCRAPE_JOB = 'vigil';
const INTERVAL = '1s';
const MIN_SCRAPES = 5;
/**
 * Grafana's range variables for a 1 s scrape: $__rate_interval is at least 4 scrape intervals
 * (15 s leaves room for a slow scrape), $__range the last minute, $__interval one scrape.
 */
const RANGE_VARIABLES: Readonly<Record<string, string>> = { __rate_interval: '15s', __range: '1m', __interval: '1s', __range_s: '60', __interval_ms: '1000' };

const peers = findPeers('monitoring-queries', { prometheus: { names: ['prometheus'], debianPackage: 'prometheus' } });

interface PrometheusAnswer<T> {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: T;
}
interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}
/** An instant query's data; scalars and strings are [time, value], which no query here returns. */
interface QueryData {
  resultType: 'vector' | 'matrix' | 'scalar' | 'string';
  result: Sample[];
}
interface RuleState {
  name: string;
  query: string;
  health: 'ok' | 'err' | 'unknown';
  lastError?: string;
  lastEvaluation: string;
}
interface RulesData {
  groups: { name: string; file: string; rules: RuleState[] }[];
}
interface RulesFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}

async function get(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
}

/** `POST path` to Vigil; throws with the answer unless it is `status`. */
async function post(vigilUrl: string, path: string, contentType: string, body: string, status: number): Promise<void> {
  const response = await get(`${vigilUrl}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
  if (response.status !== status) throw new Error(`POST ${path}: ${response.status}, expected ${status}: ${await response.text()}`);
}

/**
 * Alerts as Prometheus posts them (two firing, one resolved), a body Vigil refuses, and an
 * Influx write: the alert, incident and ingest families all count something. Vigil groups
 * alerts into incidents by alertname, so each round's names are new and open new incidents.
 */
async function sendTraffic(vigilUrl: string, round: number): Promise<void> {
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const alerts = [
    { labels: { alertname: `E2EDiskFull${round}`, instance: `db-${round}:9100`, job: 'node', severity: 'critical' }, annotations: { summary: `db-${round} disk full` }, startsAt: iso(now - 60_000), endsAt: iso(now + 600_000) },
    { labels: { alertname: `E2ESlowQueries${round}`, instance: `db-${round}:9187`, job: 'postgres', severity: 'warning' }, annotations: { summary: 'slow queries' }, startsAt: iso(now - 30_000), endsAt: iso(now + 600_000) },
    { labels: { alertname: `E2EBackupLate${round}`, instance: `db-${round}:9100`, job: 'node', severity: 'warning' }, annotations: { summary: 'backup late' }, startsAt: iso(now - 120_000), endsAt: iso(now - 1_000) },
  ];
  await post(vigilUrl, '/api/v2/alerts', 'application/json', JSON.stringify(alerts), 200);
  await post(vigilUrl, '/api/v2/alerts', 'application/json', JSON.stringify({ labels: {} }), 400);
  const seconds = Math.floor(now / 1000);
  await post(vigilUrl, '/write?db=e2e&precision=s', 'text/plain', `e2e_disk,host=db-${round},path=/var used_percent=81.5,inodes_free=1024i ${seconds}`, 204);
}

/** A Prometheus regex matching exactly `value`, escaped and grouped as Grafana writes a multi-value variable into `=~"..."`. */
function grafanaRegexValue(value: string): string {
  // Grafana doubles the backslash: the PromQL string literal takes one, the regex the other.
  return `(${value.replace(/[\\^$*+?.()|[\]{}]/g, '\\\\$&')})`;
}

/**
 * The expression as Grafana sends it: `$name`, `${name}`, `${name:format}` and `[[name]]`
 * replaced; unknown variables listed. `$1` is label_replace()'s, not a variable.
 */
function interpolate(expr: string, variables: Readonly<Record<string, string>>): { query: string; unknown: string[] } {
  const unknown: string[] = [];
  const query = expr.replace(/\$\{(\w+)(?::\w+)?\}|\$([a-zA-Z_]\w*)|\[\[(\w+)\]\]/g, (all, braced?: string, bare?: string, old?: string) => {
    const name = braced ?? bare ?? old ?? '';
    const value = variables[name];
    if (value === undefined) unknown.push(all);
    return value ?? all;
  });
  return { query, unknown };
}

describe.skipIf(peers.skipReason !== undefined)('the dashboard queries and alert rules, evaluated by Prometheus 2.42 scraping Vigil', () => {
  const dashboards = readDashboards();
  const rules = parseYaml(readFileSync(rulesFile, 'utf8')) as RulesFile;
  let tempDir = '';
  let vigil: TestVigil | undefined;
  let prometheus: Child | undefined;
  let prometheusUrl = '';
  /** Vigil as Prometheus labels it: `instance="127.0.0.1:PORT"`. */
  let vigilInstance = '';
  let variables: Record<string, string> = {};
  /** Prometheus' answer to loading the rules (a reload), kept for the rules test to report. */
  let rulesReload = '';
  const killOnExit = () => prometheus?.exited === false && prometheus.process.kill('SIGKILL');

  async function prometheusGet<T>(path: string): Promise<{ httpStatus: number; answer: PrometheusAnswer<T> }> {
    const response = await get(`${prometheusUrl}${path}`);
    const text = await response.text();
    try {
      return { httpStatus: response.status, answer: JSON.parse(text) as PrometheusAnswer<T> };
    } catch {
      return { httpStatus: response.status, answer: { status: 'error', errorType: 'not JSON', error: text.slice(0, 500) } };
    }
  }

  /** An instant query at the current time; the answer as Prometheus gave it. */
  async function instantQuery(query: string): Promise<{ httpStatus: number; answer: PrometheusAnswer<QueryData> }> {
    return prometheusGet<QueryData>(`/api/v1/query?${new URLSearchParams({ query }).toString()}`);
  }

  async function vectorOf(query: string): Promise<Sample[]> {
    const { httpStatus, answer } = await instantQuery(query);
    if (answer.status !== 'success' || answer.data === undefined) throw new Error(`${query}: HTTP ${httpStatus} ${answer.errorType ?? ''} ${answer.error ?? ''}`);
    return answer.data.result;
  }

  const noContext = () => '';

  beforeAll(async () => {
    const { prometheus: prometheusBin } = peers.require();
    process.once('exit', killOnExit);
    tempDir = mkdtempSync(join(tmpdir(), 'vigil-e2e-monitoring-queries-'));
    vigil = await startTestVigil();
    vigilInstance = new URL(vigil.url).host;
    variables = { ...RANGE_VARIABLES, instance: grafanaRegexValue(vigilInstance) };
    await sendTraffic(vigil.url, 1);

    // Started without the rules, which come with a reload: a rule Prometheus refuses fails the
    // rules test with Prometheus' error, instead of Prometheus refusing to start at all.
    const rulesCopy = join(tempDir, 'vigil.rules.yml');
    copyFileSync(rulesFile, rulesCopy);
    const configFile = join(tempDir, 'prometheus.yml');
    const config = (ruleFiles: string[]) => ({
      global: { scrape_interval: INTERVAL, scrape_timeout: INTERVAL, evaluation_interval: INTERVAL },
      rule_files: ruleFiles,
      scrape_configs: [{ job_name: SCRAPE_JOB, static_configs: [{ targets: [vigilInstance] }] }],
    });
    // JSON is YAML, and Prometheus' YAML parser reads it.
    writeFileSync(configFile, JSON.stringify(config([]), null, 2));
    const prometheusPort = await freePort();
    prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    prometheus = startChild('prometheus', prometheusBin, [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(tempDir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
      '--web.enable-lifecycle',
    ], tempDir);
    const children = [prometheus];
    await waitFor('Prometheus to be ready', 15_000, async () => (await get(`${prometheusUrl}/-/ready`)).ok, noContext, children);

    writeFileSync(configFile, JSON.stringify(config([rulesCopy]), null, 2));
    const reload = await get(`${prometheusUrl}/-/reload`, { method: 'POST' });
    rulesReload = `${reload.status} ${(await reload.text()).trim()}`;

    // The scrape manager applies targets on a 5 s tick: the first scrape comes a few seconds in.
    await waitFor('the first successful scrape of Vigil', 15_000, async () => (await vectorOf(`up{job="${SCRAPE_JOB}"} == 1`)).length === 1, noContext, children);
    await sendTraffic(vigil.url, 2);
    await waitFor(`${MIN_SCRAPES} scrapes of Vigil`, 20_000, async () => {
      const [scrapes] = await vectorOf(`count_over_time(up{job="${SCRAPE_JOB}"}[1m])`);
      return Number(scrapes?.value[1] ?? 0) >= MIN_SCRAPES;
    }, noContext, children);
  }, 60_000);

  afterAll(async () => {
    await stopChild(prometheus);
    process.removeListener('exit', killOnExit);
    await vigil?.stop();
    if (tempDir !== '') rmSync(tempDir, { recursive: true, force: true });
  }, 30_000);

  it.each(dashboards)('dashboards/$file: every query variable lists the scraped Vigil', async ({ file, dashboard }) => {
    const failures: string[] = [];
    for (const variable of (dashboard.templating?.list ?? []).filter((v) => v.type === 'query')) {
      const query = variableQueryOf(variable);
      const where = `${file} variable ${String(variable.name)}: ${query}`;
      // label_values() is Grafana's, not PromQL: Grafana asks the label values API, as here.
      const labelValues = /^\s*label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)\s*$/.exec(query);
      if (labelValues === null) {
        failures.push(`${where}\n    not label_values(): this test does not know how Grafana runs it`);
        continue;
      }
      const [, selector, label] = labelValues;
      const params = new URLSearchParams();
      if (selector !== undefined) params.set('match[]', interpolate(selector, variables).query);
      const { httpStatus, answer } = await prometheusGet<string[]>(`/api/v1/label/${label!}/values?${params.toString()}`);
      if (answer.status !== 'success' || answer.data === undefined) failures.push(`${where}\n    HTTP ${httpStatus} ${answer.errorType ?? ''}: ${answer.error ?? ''}`);
      else if (label === 'instance' && !answer.data.includes(vigilInstance)) failures.push(`${where}\n    lists ${JSON.stringify(answer.data)}, not Vigil's ${vigilInstance}`);
      else if (answer.data.length === 0) failures.push(`${where}\n    lists nothing`);
    }
    expect(failures, `${failures.length} variable queries failed:\n  ${failures.join('\n  ')}`).toEqual([]);
  });

  it.each(dashboards)('dashboards/$file: Prometheus accepts and evaluates every panel query', async ({ file, dashboard }) => {
    const queries = queriesOf(dashboard);
    expect(queries.length).toBeGreaterThan(0);
    const failures: string[] = [];
    for (const { title, refId, expr } of queries) {
      const where = `${file} panel "${title}" ${refId}: ${expr}`;
      const { query, unknown } = interpolate(expr, variables);
      if (unknown.length > 0) {
        failures.push(`${where}\n    unknown Grafana variables ${unknown.join(', ')}`);
        continue;
      }
      // A syntax or type error is 400 bad_data; an evaluation error (e.g. many-to-many) 422 execution.
      const { httpStatus, answer } = await instantQuery(query);
      if (httpStatus !== 200 || answer.status !== 'success') failures.push(`${where}\n    HTTP ${httpStatus} ${answer.errorType ?? ''}: ${answer.error ?? ''}\n    sent: ${query}`);
    }
    expect(failures, `${failures.length} of ${queries.length} panel queries failed:\n  ${failures.join('\n  ')}`).toEqual([]);
  });

  /*
   * Every panel query must return samples for the scraped Vigil, except these, which rightly
   * show nothing for a test Vigil (Vigil starts its counters at 0 for every label it knows in
   * advance; these are labelled by what only traffic or configuration brings).
   */
  const MAY_BE_EMPTY: ReadonlyMap<string, string> = new Map([
    ['"New series and skipped points" B', 'points are counted per skip reason (e.g. an Influx string field); this traffic skips none'],
    ['"Webhook attempts by route and outcome" A', 'notification series are per route, and a test Vigil has no notification routes'],
    ['"Deliveries given up" A', 'per route, no routes (the stat of the same title ends in `or vector(0)`, so it has a sample)'],
    ['"Attempt duration p99" A', 'per route, no routes'],
  ]);
  /**
   * Queries the traffic above moves: a sample must be above 0, not just be there (0 or NaN would
   * mean the query reads the wrong thing). The second round was sent after the first scrape, a
   * few seconds ago: inside the 15 s $__rate_interval, so rate() sees it.
   */
  const MOVED_BY_TRAFFIC: ReadonlyMap<string, string> = new Map([
    ['"Samples stored by protocol" A', 'Influx writes were stored'],
    ['"New series and skipped points" A', 'each round writes new series'],
    ['"Alert events by source and status" A', 'alerts were posted'],
    ['"Alert requests by outcome" A', 'alerts were posted, and one body refused'],
    ['"Alerts firing" A', 'firing alerts were posted'],
    ['"Alerts held" A', 'posted alerts are held'],
    ['"Open incidents" A', 'the firing alerts opened incidents'],
    ['"Open incidents by priority" A', 'the firing alerts opened incidents'],
    ['"Incidents by status" A', 'the firing alerts opened incidents'],
    ['"Incidents created" A', 'the second round opened incidents while Prometheus scraped'],
    ['"CPU" A', 'Vigil uses CPU'],
    ['"Resident memory" A', 'Vigil has memory'],
    ['"V8 heap" A', 'Vigil has a heap'],
    ['"V8 heap" B', 'Vigil has a heap'],
  ]);
  const keyOf = (q: { title: string; refId: string }) => `"${q.title}" ${q.refId}`;

  it.each(dashboards)('dashboards/$file: every panel query returns data for the scraped Vigil, but those that rightly may not', async ({ file, dashboard }) => {
    const queries = queriesOf(dashboard);
    const failures: string[] = [];
    for (const q of queries) {
      const where = `${file} panel "${q.title}" ${q.refId}: ${q.expr}`;
      const { httpStatus, answer } = await instantQuery(interpolate(q.expr, variables).query);
      const result = answer.data?.result;
      const moved = MOVED_BY_TRAFFIC.get(keyOf(q));
      if (answer.status !== 'success' || answer.data?.resultType !== 'vector' || result === undefined) {
        failures.push(`${where}\n    HTTP ${httpStatus} ${answer.errorType ?? ''}: ${answer.error ?? ''} ${answer.data?.resultType ?? ''}`);
      } else if (result.length === 0) {
        if (!MAY_BE_EMPTY.has(keyOf(q))) failures.push(`${where}\n    no data`);
      } else if (result.some((s) => s.metric.instance !== undefined && s.metric.instance !== vigilInstance)) {
        failures.push(`${where}\n    series of another instance than Vigil's ${vigilInstance}: ${JSON.stringify(result.map((s) => s.metric))}`);
      } else if (moved !== undefined && !result.some((s) => Number(s.value[1]) > 0)) {
        failures.push(`${where}\n    ${moved}, yet every value is 0 or NaN: ${JSON.stringify(result.map((s) => [s.metric, s.value[1]]))}`);
      }
    }
    expect(failures, `${failures.length} of ${queries.length} panel queries without the data expected:\n  ${failures.join('\n  ')}`).toEqual([]);
  });

  it('the panels named above are in the dashboards, so no check silently stops applying', () => {
    const present = new Set(dashboards.flatMap(({ dashboard }) => queriesOf(dashboard).map(keyOf)));
    const missing = [...MAY_BE_EMPTY.keys(), ...MOVED_BY_TRAFFIC.keys()].filter((key) => !present.has(key));
    expect(missing, 'panels (title and refId) no dashboard has').toEqual([]);
  });

  it('Prometheus accepts every expr of vigil.rules.yml as a query', async () => {
    const failures: string[] = [];
    for (const group of rules.groups) {
      for (const rule of group.rules) {
        const { httpStatus, answer } = await instantQuery(rule.expr);
        if (httpStatus !== 200 || answer.status !== 'success') failures.push(`group ${group.name} rule ${rule.alert ?? rule.record ?? '?'}: ${rule.expr}\n    HTTP ${httpStatus} ${answer.errorType ?? ''}: ${answer.error ?? ''}`);
      }
    }
    expect(failures, `${failures.length} rule expressions failed:\n  ${failures.join('\n  ')}`).toEqual([]);
  });

  it('Prometheus loads every rule of vigil.rules.yml and evaluates each without error', async () => {
    // The reload's answer says only that it failed; Prometheus' log names the rule and the error.
    const loggedErrors = prometheus!.output.filter((line) => line.includes('level=error'));
    expect(rulesReload, `reloading Prometheus with vigil.rules.yml; Prometheus logged:\n  ${loggedErrors.join('\n  ')}`).toMatch(/^200\b/);
    const expected = rules.groups.find((g) => g.name === RULE_GROUP)?.rules.map((r) => r.alert ?? r.record) ?? [];
    expect(expected.length, `rules of group ${RULE_GROUP} in vigil.rules.yml`).toBeGreaterThan(0);
    let group: RulesData['groups'][number] | undefined;
    let last = '';
    // Rules are evaluated every second from the reload; by now each has run, but wait for it rather than assume.
    await waitFor(`every rule of group ${RULE_GROUP} evaluated once`, 10_000, async () => {
      const { httpStatus, answer } = await prometheusGet<RulesData>('/api/v1/rules');
      last = `HTTP ${httpStatus} ${JSON.stringify(answer).slice(0, 2_000)}`;
      group = answer.data?.groups.find((g) => g.name === RULE_GROUP);
      return group !== undefined && group.rules.every((r) => r.health !== 'unknown');
    }, () => `Prometheus last answered: ${last}`, [prometheus!]);
    expect(group!.rules.map((r) => r.name)).toEqual(expected);
    const unhealthy = group!.rules.filter((r) => r.health !== 'ok').map((r) => `${r.name} (${r.health}): ${r.lastError ?? ''}\n    ${r.query}`);
    expect(unhealthy, `${unhealthy.length} rules failed to evaluate:\n  ${unhealthy.join('\n  ')}`).toEqual([]);
  });
});
