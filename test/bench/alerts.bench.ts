/**
 * npm run bench:alerts — Alertmanager v2 alert intake of Vigil against the shared generator
 * (../shared/bench/alert-load), for several numbers of distinct alerts; then, with those alerts
 * still active, the latency from a new alert's POST to its incident being listed; beside each
 * size, Debian's Alertmanager on the same load for comparison (target: Vigil ≥ 2× Alertmanager),
 * with the ratio per size. Prints figures; asserts nothing.
 *
 * Sustained rates: each size sends at least BENCH_EVENTS events (every alert re-sent as many
 * rounds as that takes, 5 at least), so 1k alerts is 500 rounds rather than 5k events that
 * are gone in a quarter of a second, which measured how fast a fresh process warms up.
 *
 * Options (env): BENCH_ALERT_SIZES ("1000,10000,100000"), BENCH_EVENTS (500000), BENCH_ROUNDS
 * (fixed rounds for every size instead), BENCH_BATCH (100), BENCH_CONCURRENCY (4),
 * BENCH_LATENCY_ALERTS (200), BENCH_GENERATOR_TIMEOUT_MS (900000).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultConfig } from '../../src/config/index.js';
import { VIGIL_NODE_FLAGS } from '../../src/shared/node-flags.js';

const root = resolve(import.meta.dirname, '../..');
// alert-load has no dependencies, so it runs in place (no copy into .vigil-tmp needed).
const generator = resolve(root, '../shared/bench/alert-load/load.mjs');
const sizes = (process.env.BENCH_ALERT_SIZES ?? '1000,10000,100000')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
const minEvents = Number(process.env.BENCH_EVENTS ?? '500000');
/** Rounds for `alerts` distinct alerts: BENCH_ROUNDS, or enough for BENCH_EVENTS events (5 at least). */
const roundsFor = (alerts: number) => process.env.BENCH_ROUNDS ?? String(Math.max(5, Math.ceil(minEvents / alerts)));
const batch = process.env.BENCH_BATCH ?? '100';
const concurrency = process.env.BENCH_CONCURRENCY ?? '4';
const latencyAlerts = Number(process.env.BENCH_LATENCY_ALERTS ?? '200');
// 500k events per size; even at 1k events/s that finishes well inside 15 min.
const generatorTimeoutMs = Number(process.env.BENCH_GENERATOR_TIMEOUT_MS ?? '900000');
const vigilPort = 19471;
const alertmanagerPort = 19095;
// Upper bound for any single HTTP request of the bench itself (listing, one-alert POST).
const requestTimeoutMs = 30_000;
// Upper bound for one new incident to become visible before the sample counts as a timeout.
const visibleTimeoutMs = 10_000;
// Linux USER_HZ; /proc/<pid>/stat counts CPU time in these ticks.
const ticksPerSecond = 100;

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.log(`\n${signal}: stopping children`);
    process.exit(130);
  });
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Whether `promise` settled within `ms`; the timer is cleared so it never holds the process open. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}

function startChild(command: string, args: string[], options: Parameters<typeof spawn>[2]): ChildProcess {
  const child = spawn(command, args, options);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL if the child has not exited within `graceMs`. */
async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  if (!(await settlesWithin(exited, graceMs))) {
    console.log(`  pid ${child.pid} did not exit within ${graceMs} ms of SIGTERM; killing`);
    child.kill('SIGKILL');
    await exited;
  }
}

async function waitFor(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`process exited with code ${child.exitCode} before ${url} came up`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok) return;
    } catch {
      /* not up yet */
    }
    await sleep(200);
  }
  throw new Error(`${url} did not come up within ${timeoutMs} ms`);
}

/** CPU seconds (user + system), current and peak RSS of a process, from /proc. */
function processFigures(pid: number): { cpuSeconds: number; rssBytes: number; peakRssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuSeconds: ticks / ticksPerSecond, rssBytes: kb('VmRSS') * 1024, peakRssBytes: kb('VmHWM') * 1024 };
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** Runs the generator to completion (bounded), returning its last line and `rate`. */
async function runGenerator(url: string, alerts: number): Promise<{ rate: number; line: string }> {
  const child = startChild(process.execPath, [generator, '--url', url, '--alerts', String(alerts), '--rounds', roundsFor(alerts), '--batch', batch, '--concurrency', concurrency], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => (stdout += chunk));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  if (!(await settlesWithin(exited, generatorTimeoutMs))) {
    child.kill('SIGKILL');
    await exited;
    return { rate: 0, line: `generator killed after ${generatorTimeoutMs} ms` };
  }
  const line = stdout.trim().split('\n').pop() ?? '';
  const rate = Number(/rate=(\d+)/.exec(line)?.[1] ?? 0);
  if (!/errors=0\b/.test(line)) console.log(`  generator reported errors: ${line}`);
  return { rate, line };
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(requestTimeoutMs) });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${(await response.text()).slice(0, 200)}`);
  return response.json();
}

async function listedTotal(url: string): Promise<number> {
  const body = await getJson(url);
  const total = typeof body === 'object' && body !== null && 'total' in body ? body.total : undefined;
  if (typeof total !== 'number') throw new Error(`GET ${url}: no numeric total in ${JSON.stringify(body).slice(0, 200)}`);
  return total;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

/**
 * Sends `count` single-alert POSTs one at a time, each with a new alertname (so each opens a
 * new incident under the default by-alertname grouping), and times each from sending until the
 * open-incident total has grown.
 */
async function measureIncidentLatency(base: string, count: number, tag: string): Promise<void> {
  const incidentsUrl = `${base}/api/v1/incidents?status=open&limit=1`;
  let previous = await listedTotal(incidentsUrl);
  const latenciesMs: number[] = [];
  const postMs: number[] = [];
  let extraPolls = 0;
  let failures = 0;
  let firstFailure = '';
  const now = new Date().toISOString();
  const later = new Date(Date.now() + 3_600_000).toISOString();
  for (let i = 0; i < count; i++) {
    const body = JSON.stringify([
      {
        labels: { alertname: `BenchLatency_${tag}_${i}`, instance: `latency-${i}:9100`, job: 'bench', severity: 'critical' },
        annotations: { summary: `latency probe ${i}` },
        startsAt: now,
        endsAt: later,
        generatorURL: 'http://prometheus:9090/graph',
      },
    ]);
    const started = performance.now();
    try {
      const response = await fetch(`${base}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`POST answered ${response.status}`);
      postMs.push(performance.now() - started);
      let polls = 0;
      for (;;) {
        const total = await listedTotal(incidentsUrl);
        polls++;
        if (total > previous) {
          latenciesMs.push(performance.now() - started);
          previous = total;
          break;
        }
        if (performance.now() - started > visibleTimeoutMs) throw new Error(`incident not visible after ${visibleTimeoutMs} ms (total stayed ${total})`);
        await sleep(5);
      }
      extraPolls += polls - 1;
    } catch (error) {
      failures++;
      firstFailure ||= error instanceof Error ? error.message : String(error);
      previous = await listedTotal(incidentsUrl).catch(() => previous);
    }
  }
  latenciesMs.sort((a, b) => a - b);
  postMs.sort((a, b) => a - b);
  const fmt = (ms: number) => ms.toFixed(1);
  console.log(
    `  latency POST → incident listed (${latenciesMs.length}/${count} samples): p50 ${fmt(percentile(latenciesMs, 0.5))} ms, p99 ${fmt(percentile(latenciesMs, 0.99))} ms, max ${fmt(latenciesMs.at(-1) ?? Number.NaN)} ms; ${extraPolls} extra polls beyond the first`,
  );
  console.log(`  of which the POST until its 200: p50 ${fmt(percentile(postMs, 0.5))} ms, p99 ${fmt(percentile(postMs, 0.99))} ms`);
  if (failures > 0) console.log(`  latency failures: ${failures}, first: ${firstFailure}`);
}

async function benchVigil(alerts: number): Promise<number> {
  console.log(`vigil, ${alerts} distinct alerts:`);
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-alerts-bench-'));
  const base = `http://127.0.0.1:${vigilPort}`;
  const child = startChild(process.execPath, [...VIGIL_NODE_FLAGS, join(root, 'bin/vigil.mjs'), 'serve'], {
    // Vigil on its defaults (no VIGIL_CONFIG): Alertmanager's group_by is copied from them.
    env: { ...process.env, VIGIL_CONFIG: '', VIGIL_LISTEN: `127.0.0.1:${vigilPort}`, VIGIL_DATA_DIR: dataDir, VIGIL_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitFor(`${base}/readyz`, child);
    const rate = await measuredRun(child.pid!, `${base}/api/v2/alerts`, alerts, 'durable');
    const total = await listedTotal(`${base}/api/v1/alerts?status=all&limit=1`);
    console.log(`  alerts listed (status=all): ${total}, expected ${alerts}: ${total === alerts ? 'OK' : 'MISMATCH'}`);
    await measureIncidentLatency(base, latencyAlerts, String(alerts));
    const end = processFigures(child.pid!);
    console.log(`  after latency probes: RSS ${mib(end.rssBytes)} (peak ${mib(end.peakRssBytes)})`);
    return rate;
  } finally {
    await stopChild(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Runs the generator against `url` and prints its line, the rate, and the receiver's CPU and RSS. */
async function measuredRun(pid: number, url: string, alerts: number, kind: string): Promise<number> {
  const before = processFigures(pid);
  const startedMs = Date.now();
  const { rate, line } = await runGenerator(url, alerts);
  const wallSeconds = (Date.now() - startedMs) / 1000;
  const after = processFigures(pid);
  console.log(`  ${line}`);
  console.log(
    `  ${rate} alert events/s ${kind}; CPU ${(after.cpuSeconds - before.cpuSeconds).toFixed(1)} s over ${wallSeconds.toFixed(1)} s wall; RSS ${mib(after.rssBytes)} (peak ${mib(after.peakRssBytes)})`,
  );
  return rate;
}

async function benchAlertmanager(alerts: number): Promise<number | null> {
  const binary = '/usr/bin/prometheus-alertmanager';
  if (!existsSync(binary)) {
    console.log('alertmanager: not installed (apt-get install prometheus-alertmanager) — skipped');
    return null;
  }
  console.log(`alertmanager, ${alerts} distinct alerts:`);
  const dataDir = mkdtempSync(join(tmpdir(), 'am-alerts-bench-'));
  // One route to a receiver with no integrations: Alertmanager groups and dedups, sends nothing.
  // It groups by the labels Vigil groups by (Vigil runs on its defaults here), so both do the
  // same grouping work (without group_by, all alerts would share a single group).
  const groupBy = defaultConfig.incidents.grouping.groupBy.map((label) => `'${label}'`).join(', ');
  writeFileSync(join(dataDir, 'am.yml'), `route:\n  receiver: 'blackhole'\n  group_by: [${groupBy}]\nreceivers:\n  - name: 'blackhole'\n`);
  console.log(`  route group_by: [${groupBy}], as Vigil's incidents.grouping`);
  const base = `http://127.0.0.1:${alertmanagerPort}`;
  const child = startChild(
    binary,
    [`--web.listen-address=127.0.0.1:${alertmanagerPort}`, '--cluster.listen-address=', `--storage.path=${dataDir}`, `--config.file=${join(dataDir, 'am.yml')}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  try {
    await waitFor(`${base}/-/ready`, child);
    return await measuredRun(child.pid!, `${base}/api/v2/alerts`, alerts, '(in memory)');
  } finally {
    await stopChild(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Newest modification time of any file under `dir`, in ms. */
function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

const cores = readdirSync('/sys/devices/system/cpu').filter((d) => /^cpu\d+$/.test(d)).length;
console.log(
  `bench:alerts — ${sizes.map((n) => `${n} distinct alerts × ${roundsFor(n)} rounds`).join(', ')}; ${batch} alerts/request, ${concurrency} in flight, on ${cores} cores`,
);
const cli = join(root, 'dist/cli.js');
if (!existsSync(cli) || statSync(cli).mtimeMs < newestMtimeMs(join(root, 'src'))) {
  console.log('building…');
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', timeout: 300_000 });
  if (build.status !== 0) {
    console.log(`build failed (status ${build.status}); aborting`);
    process.exit(1);
  }
}

const vigilRates = new Map<number, number>();
const alertmanagerRates = new Map<number, number>();
const runVigil = async (alerts: number) => {
  try {
    vigilRates.set(alerts, await benchVigil(alerts));
  } catch (error) {
    console.log(`  vigil run failed: ${error instanceof Error ? error.message : String(error)}`);
  }
};
let alertmanagerInstalled = true;
const runAlertmanager = async (alerts: number) => {
  if (!alertmanagerInstalled) return;
  try {
    const rate = await benchAlertmanager(alerts);
    if (rate === null) alertmanagerInstalled = false;
    else alertmanagerRates.set(alerts, rate);
  } catch (error) {
    console.log(`  alertmanager run failed: ${error instanceof Error ? error.message : String(error)}`);
  }
};
// Side by side per size, the order alternating: the machine's speed drifts by 15-30 % over
// minutes, and all of one side's runs before all of the other's put that drift into the ratios.
for (const [i, alerts] of sizes.entries()) {
  if (i % 2 === 0) {
    await runVigil(alerts);
    await runAlertmanager(alerts);
  } else {
    await runAlertmanager(alerts);
    await runVigil(alerts);
  }
}
for (const alerts of sizes) {
  const vigil = vigilRates.get(alerts);
  const alertmanager = alertmanagerRates.get(alerts);
  if (vigil !== undefined && alertmanager !== undefined) {
    console.log(`ratio:    vigil / alertmanager at ${alerts} alerts = ${(vigil / alertmanager).toFixed(2)} (target ≥ 2)`);
  }
}
