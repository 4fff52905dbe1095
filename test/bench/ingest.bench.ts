/**
 * npm run bench:ingest — remote_write throughput of Vigil against the shared seeded generator
 * (../shared/bench/remote-write-load), beside the embedded engine's own insert rate for the
 * same rows (the ceiling) and VictoriaMetrics' rate on the same generator when the Debian
 * package is installed. Prints figures; asserts nothing.
 *
 * The machine's speed drifts by 15-30 % over minutes, so one Vigil run beside one
 * VictoriaMetrics run gives a ratio that moves as much: BENCH_PAIRS pairs are run, each
 * pair's order alternating, and every pair's ratio and their median are printed.
 *
 * Options (env): BENCH_ROUNDS (200), BENCH_SERIES (10000), BENCH_BATCH (2000), BENCH_CONCURRENCY (4),
 * BENCH_PAIRS (3).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { VIGIL_NODE_FLAGS } from '../../src/shared/node-flags.js';

const root = resolve(import.meta.dirname, '../..');
const generatorSource = resolve(root, '../shared/bench/remote-write-load/load.mjs');
const rounds = process.env.BENCH_ROUNDS ?? '200';
const seriesCount = process.env.BENCH_SERIES ?? '10000';
const batch = process.env.BENCH_BATCH ?? '2000';
const concurrency = process.env.BENCH_CONCURRENCY ?? '4';
const pairs = Number(process.env.BENCH_PAIRS ?? '3');
if (!Number.isInteger(pairs) || pairs < 1) throw new Error(`BENCH_PAIRS must be a whole number of at least 1, got ${process.env.BENCH_PAIRS}`);

// The generator imports snappy and protobufjs: run a copy inside the repo so it resolves ours.
const scratch = join(root, '.vigil-tmp');
mkdirSync(scratch, { recursive: true });
const generator = join(scratch, 'remote-write-load.mjs');
copyFileSync(generatorSource, generator);

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(url: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await sleep(200);
  }
  throw new Error(`${url} did not come up`);
}

/** CPU seconds and RSS of a process, from /proc. */
function processFigures(pid: number): { cpuSeconds: number; rssBytes: number } {
  const stat = spawnSync('cat', [`/proc/${pid}/stat`]).stdout.toString().split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const status = spawnSync('cat', [`/proc/${pid}/status`]).stdout.toString();
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuSeconds: ticks / 100, rssBytes: rssKb * 1024 };
}

function peakRss(pid: number): number {
  const status = spawnSync('cat', [`/proc/${pid}/status`]).stdout.toString();
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

function runGenerator(url: string): { rate: number; line: string } {
  const out = spawnSync(process.execPath, [generator, '--url', url, '--rounds', rounds, '--series', seriesCount, '--batch', batch, '--concurrency', concurrency, '--seed', '1'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = out.stdout.trim().split('\n').pop() ?? '';
  const rate = Number(/rate=(\d+)/.exec(line)?.[1] ?? 0);
  if (!/errors=0/.test(line)) console.log(`  generator reported errors: ${line}`);
  return { rate, line };
}

/** With `storage`, also bytes per sample and the engine's ceiling (once per bench: it takes a while). */
async function benchVigil(storage: boolean): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  const port = 19470;
  const child: ChildProcess = spawn(process.execPath, [...VIGIL_NODE_FLAGS, join(root, 'bin/vigil.mjs'), 'serve'], {
    env: { ...process.env, VIGIL_LISTEN: `127.0.0.1:${port}`, VIGIL_DATA_DIR: dataDir, VIGIL_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitFor(`http://127.0.0.1:${port}/readyz`);
    const before = processFigures(child.pid!);
    const started = Date.now();
    const { rate, line } = runGenerator(`http://127.0.0.1:${port}/api/v1/write`);
    const wallSeconds = (Date.now() - started) / 1000;
    const after = processFigures(child.pid!);
    console.log(`vigil:    ${line}`);
    console.log(
      `vigil:    ${(rate / 1e6).toFixed(3)} M samples/s durable; CPU ${(after.cpuSeconds - before.cpuSeconds).toFixed(1)} s over ${wallSeconds.toFixed(1)} s wall; RSS ${(after.rssBytes / 2 ** 20).toFixed(0)} MiB (peak ${(peakRss(child.pid!) / 2 ** 20).toFixed(0)} MiB)`,
    );
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const flushes = /vigil_writer_insert_rows_count (\d+)/.exec(metrics)?.[1];
    const flushRows = /vigil_writer_insert_rows_sum (\d+)/.exec(metrics)?.[1];
    if (flushes && flushRows) console.log(`vigil:    ${flushes} flushes, ${(Number(flushRows) / Number(flushes)).toFixed(0)} rows per flush on average`);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    if (storage) await storedFigures(dataDir);
    return rate;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Bytes per sample on disk after merging, and the engine's own insert rate for the same rows. */
async function storedFigures(dataDir: string): Promise<void> {
  const { createStore } = await import('../../src/storage/store.js');
  const { defaultConfig } = await import('../../src/config/index.js');
  const store = createStore({ ...defaultConfig.storage, dataDir });
  await store.command('optimize', 'OPTIMIZE TABLE metric_samples_v1 FINAL');
  const [parts] = await store.query<{ rows: string; bytes: string }>(
    'parts',
    "SELECT sum(rows) AS rows, sum(bytes_on_disk) AS bytes FROM system.parts WHERE active AND table = 'metric_samples_v1' AND database = currentDatabase()",
  );
  const rows = Number(parts!.rows);
  const bytesPerSample = Number(parts!.bytes) / rows;
  console.log(`vigil:    ${rows} samples stored, ${bytesPerSample.toFixed(2)} bytes/sample on disk after OPTIMIZE FINAL (generator's random walks)`);
  // Ceiling: the engine inserting the same number of rows from a RowBinary file, no HTTP, no decode.
  await store.command('ceiling table', 'CREATE TABLE ceiling AS metric_samples_v1');
  await store.command(
    'ceiling file',
    `INSERT INTO FUNCTION file('${join(dataDir, 'ceiling.rb')}', 'RowBinary', 'series_id UInt64, ts DateTime64(3), value Float64') SELECT * FROM metric_samples_v1`,
  );
  const started = process.hrtime.bigint();
  await store.command('ceiling insert', `INSERT INTO ceiling SELECT * FROM file('${join(dataDir, 'ceiling.rb')}', 'RowBinary', 'series_id UInt64, ts DateTime64(3), value Float64')`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`engine:   ${(rows / seconds / 1e6).toFixed(2)} M rows/s inserting the same rows from one RowBinary file (ceiling, one insert, no MV)`);
  await store.close();
}

async function benchVictoriaMetrics(storage: boolean): Promise<number | null> {
  const binary = ['/usr/bin/victoria-metrics', '/usr/sbin/victoria-metrics'].find((p) => existsSync(p));
  if (!binary) {
    console.log('victoria-metrics: not installed (apt-get install victoria-metrics) — skipped');
    return null;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'vm-bench-'));
  const port = 18428;
  const child = spawn(binary, [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${dataDir}`, '-retentionPeriod=100y', '-loggerLevel=ERROR'], { stdio: 'ignore' });
  try {
    await waitFor(`http://127.0.0.1:${port}/health`);
    const before = processFigures(child.pid!);
    const { rate, line } = runGenerator(`http://127.0.0.1:${port}/api/v1/write`);
    const after = processFigures(child.pid!);
    console.log(`victoria: ${line}`);
    let bytesPerSample = '';
    if (storage) {
      await fetch(`http://127.0.0.1:${port}/internal/force_flush`);
      await fetch(`http://127.0.0.1:${port}/internal/force_merge`);
      await sleep(15_000);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const sum = (re: RegExp) => [...metrics.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
      const bytes = sum(/^vm_data_size_bytes\{type="storage\/[^"]+"\} (\S+)$/gm);
      const rows = sum(/^vm_rows\{type="storage\/[^"]+"\} (\S+)$/gm);
      bytesPerSample = `; ${rows > 0 ? (bytes / rows).toFixed(2) : '?'} bytes/sample on disk`;
    }
    console.log(`victoria: ${(rate / 1e6).toFixed(3)} M samples/s (acknowledges before disk); CPU ${(after.cpuSeconds - before.cpuSeconds).toFixed(1)} s${bytesPerSample}`);
    return rate;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

console.log(`bench:ingest — ${seriesCount} series, ${batch} samples/request, ${rounds} rounds, ${concurrency} in flight, on ${readdirSync('/sys/devices/system/cpu').filter((d) => /^cpu\d+$/.test(d)).length} cores`);
// Always: a check on one file's age missed edits elsewhere and measured an old build.
console.log('building…');
if (spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' }).status !== 0) throw new Error('npm run build failed');
const ratios: number[] = [];
for (let pair = 1; pair <= pairs; pair++) {
  console.log(`pair ${pair} of ${pairs}${pair % 2 === 0 ? ' (VictoriaMetrics first)' : ''}`);
  const storage = pair === 1;
  let vigil: number;
  let victoria: number | null;
  if (pair % 2 === 0) {
    victoria = await benchVictoriaMetrics(storage);
    vigil = await benchVigil(storage);
  } else {
    vigil = await benchVigil(storage);
    victoria = await benchVictoriaMetrics(storage);
  }
  if (!victoria) break;
  ratios.push(vigil / victoria);
  console.log(`ratio:    vigil / victoria-metrics = ${(vigil / victoria).toFixed(2)}`);
}
if (ratios.length > 1) {
  const sorted = [...ratios].sort((a, b) => a - b);
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  console.log(`ratios:   ${ratios.map((r) => r.toFixed(2)).join(', ')}; median ${median.toFixed(2)} (target >= 1.0)`);
}
